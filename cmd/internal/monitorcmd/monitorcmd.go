// Package monitorcmd is what `hmperf monitor` does once its command line
// is parsed and its server resolved: sample the service's writes from the
// statistics views into the monitor, once or every interval until
// interrupted.
package monitorcmd

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/cmd/internal/cmdout"
	"hmperf/cmd/internal/dbtarget"
	"hmperf/queries"
	"hmperf/queries/monitor"
	"hmperf/queries/writepolicy"
)

// Options are where monitor talks and what its command line asked for.
type Options struct {
	Out, Err io.Writer
	Once     bool
	JSON     bool
	ReadOnly bool
	Interval time.Duration
}

// Run samples t's writes as o asks; an interrupt ends a sampling loop
// without an error.
func Run(ctx context.Context, t *dbtarget.Target, o Options) error {
	conn, err := connect(ctx, t)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	sample, err := sampler(ctx, conn, o)
	if err != nil {
		return err
	}
	tick := time.NewTicker(o.Interval)
	defer tick.Stop()
	for {
		r, err := sample(ctx, conn)
		if err != nil {
			if ctx.Err() != nil && !o.Once {
				return nil
			}
			return err
		}
		if err := cmdout.Sample(o.Out, r, o.Once, o.JSON); err != nil {
			return err
		}
		if o.Once && (!r.InMemory || r.Status != monitor.SampleBaseline) {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// connect connects to a primary whose schema hmperf manages: samples
// are stored and read on the primary, and without hmperf's schema there
// is nothing to sample into (the service's own database is adopted first).
func connect(ctx context.Context, t *dbtarget.Target) (*pgx.Conn, error) {
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

// sampler is how this role samples (monitor.ChooseSampler), saying on
// Err when in memory and why; there Once waits one Interval for a second
// sample: its first is only a baseline.
func sampler(ctx context.Context, conn *pgx.Conn, o Options) (sampleFunc, error) {
	sample, why, err := monitor.ChooseSampler(ctx, conn, o.ReadOnly)
	if err != nil || why == "" {
		return sample, err
	}
	fmt.Fprintf(o.Err, "hmperf: monitor samples in memory (the deltas between its own samples, stored nowhere): %s\n", why)
	if o.Once && !o.JSON {
		fmt.Fprintf(o.Err, "hmperf: --once in memory: a baseline now, the sample %s later\n", o.Interval)
	}
	return sample, nil
}
