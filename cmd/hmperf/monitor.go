package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"hmperf/cmd/internal/monitorcmd"
)

// monitorOpts are the flags of `hmperf monitor`.
type monitorOpts struct {
	globals
	once     bool
	interval time.Duration
}

func (o *monitorOpts) flags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.once, "once", false, "take one sample and exit (for cron or a systemd timer)")
	fs.DurationVar(&o.interval, "interval", 10*time.Second,
		"time between samples without --once; with --once in memory (a role that may not store samples), between its baseline and its sample")
}

// runMonitor samples the service's writes from the statistics views into
// the monitor: once (for cron or a systemd timer), or every interval until
// interrupted.
func runMonitor(ctx context.Context, e env, o *monitorOpts, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("%w: monitor takes no arguments (got %q)", errUsage, args[0])
	}
	t, err := openSchema(ctx, o.conn, e.stderr)
	if err != nil {
		return err
	}
	defer t.Close()
	return monitorcmd.Run(ctx, t, monitorcmd.Options{Out: e.stdout, Err: e.stderr, Once: o.once, JSON: o.json,
		ReadOnly: o.conn.readOnly, Interval: o.interval})
}
