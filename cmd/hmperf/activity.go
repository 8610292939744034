package main

import (
	"context"
	"fmt"

	"hmperf/cmd/internal/cmdout"
	"hmperf/cmd/internal/oncallcmd"
	"hmperf/queries/activity"
)

func runActivity(ctx context.Context, e env, o *noFlags, args []string) error {
	cf, asJSON := o.conn, o.json
	if len(args) > 0 {
		return fmt.Errorf("%w: activity takes no arguments (got %q)", errUsage, args[0])
	}
	t, err := resolveTarget(ctx, cf, e.stderr)
	if err != nil {
		return err
	}
	defer t.Close()
	conn, err := t.Connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	snap, err := activity.Read(ctx, conn)
	if err != nil {
		return t.DescribeError(err)
	}
	if asJSON {
		return cmdout.JSON(e.stdout, snap)
	}
	oncallcmd.Activity(e.stdout, snap)
	return nil
}
