package main

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"

	"hmperf/cmd/internal/migratecmd"
)

// migrateOpts are the flags of `hmperf migrate`.
type migrateOpts struct {
	globals
	downAll bool
}

func (o *migrateOpts) flags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.downAll, "all", false, "with down: revert every migration")
}

func runMigrate(ctx context.Context, e env, o *migrateOpts, rest []string) error {
	if len(rest) == 0 {
		return fmt.Errorf("%w: migrate needs an action: status, adopt, up, down [N|--all], goto V or force V", errUsage)
	}
	action, err := migratecmd.Parse(rest, o.downAll)
	if err != nil {
		return err
	}
	if action.Writes && o.conn.readOnly {
		return fmt.Errorf("migrate %s changes the schema and --read-only is set", action.Name)
	}
	t, err := resolveTarget(ctx, o.conn, e.stderr)
	if err != nil {
		return err
	}
	defer t.Close()
	return migratecmd.Run(ctx, migratecmd.IO{Out: e.stdout, Err: e.stderr, Ask: e.prompt(), Yes: o.yes, JSON: o.json}, t, action)
}
