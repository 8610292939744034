package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/spf13/pflag"

	"hmperf/cmd/internal/cmdout"
	"hmperf/queries"
	"hmperf/queries/monitor"
	"hmperf/queries/writepolicy"
)

// monitorOpts are the flags of `hmperf monitor`.
type monitorOpts struct {
	globals
	once     bool
	interval time.Duration
}

// runMonitor samples the service's writes from the statistics views into
// the monitor: once (for cron or a systemd timer), or every interval until
// interrupted.
func (o *monitorOpts) flags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.once, "once", false, "take one sample and exit (for cron or a systemd timer)")
	fs.DurationVar(&o.interval, "interval", 10*time.Second,
		"time between samples without --once; with --once in memory (a role that may not store samples), between its baseline and its sample")
}

func runMonitor(ctx context.Context, e env, o *monitorOpts, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("%w: monitor takes no arguments (got %q)", errUsage, args[0])
	}
	t, err := openSchema(ctx, o.conn, e.stderr)
	if err != nil {
		return err
	}
	defer t.Close()
	conn, err := monitorConn(ctx, t)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	sample, err := monitorSampler(ctx, conn, e, *o)
	if err != nil {
		return err
	}
	tick := time.NewTicker(o.interval)
	defer tick.Stop()
	for {
		r, err := sample(ctx, conn)
		if err != nil {
			if ctx.Err() != nil && !o.once {
				return nil
			}
			return err
		}
		if err := cmdout.Sample(e.stdout, r, o.once, o.json); err != nil {
			return err
		}
		if o.once && (!r.InMemory || r.Status != monitor.SampleBaseline) {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// monitorConn connects to a primary whose schema hmperf manages: samples
// are stored and read on the primary, and without hmperf's schema there
// is nothing to sample into (the service's own database is adopted first).
func monitorConn(ctx context.Context, t *target) (*pgx.Conn, error) {
	conn, err := t.Connect(ctx)
	if err != nil {
		return nil, err
	}
	if err := writepolicy.CheckMonitor(ctx, conn); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return conn, nil
}

// sampleFunc takes one sample of the service's writes.
type sampleFunc func(context.Context, queries.DBTX) (monitor.SampleResult, error)

// monitorSampler is how this role samples (monitor.ChooseSampler), saying
// on stderr when in memory and why; there --once waits one --interval for
// a second sample: its first is only a baseline.
func monitorSampler(ctx context.Context, conn *pgx.Conn, e env, o monitorOpts) (sampleFunc, error) {
	sample, why, err := monitor.ChooseSampler(ctx, conn, o.conn.readOnly)
	if err != nil || why == "" {
		return sample, err
	}
	fmt.Fprintf(e.stderr, "hmperf: monitor samples in memory (the deltas between its own samples, stored nowhere): %s\n", why)
	if o.once && !o.json {
		fmt.Fprintf(e.stderr, "hmperf: --once in memory: a baseline now, the sample %s later\n", o.interval)
	}
	return sample, nil
}
