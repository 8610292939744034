package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/spf13/pflag"

	"hmperf/migrations"
	"hmperf/queries"
	"hmperf/queries/monitor"
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
		if err := printSample(e.stdout, r, *o); err != nil {
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
	conn, err := t.connect(ctx)
	if err != nil {
		return nil, err
	}
	if err := refuseReplica(ctx, conn); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("monitor stores its samples: %w (the dashboard on a replica reads the samples the primary's monitor stored and replicated)", err)
	}
	st, err := migrations.ReadStatus(ctx, conn, nil)
	if err == nil {
		err = st.RequireManaged("hmperf monitor")
	} else {
		err = fmt.Errorf("classify the database: %w", err)
	}
	if err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return conn, nil
}

// sampleFunc takes one sample of the service's writes.
type sampleFunc func(context.Context, queries.DBTX) (monitor.SampleResult, error)

// monitorSampler is how this role samples: stored in hmperf's tables where
// it may write them and --read-only is not given, else in memory, which it
// says on stderr, with the privilege it lacks or --read-only. In memory --once waits one --interval for a second
// sample: its first is only a baseline.
func monitorSampler(ctx context.Context, conn *pgx.Conn, e env, o monitorOpts) (sampleFunc, error) {
	var why string
	if o.conn.readOnly {
		why = "--read-only: nothing is written, the samples included"
	} else {
		err := monitor.CanStore(ctx, conn)
		var denied *queries.PrivilegeError
		if !errors.As(err, &denied) {
			return monitor.Sample, err
		}
		why = denied.Error()
	}
	m := &monitor.MemorySampler{}
	fmt.Fprintf(e.stderr, "hmperf: monitor samples in memory (the deltas between its own samples, stored nowhere): %s\n", why)
	if o.once && !o.json {
		fmt.Fprintf(e.stderr, "hmperf: --once in memory: a baseline now, the sample %s later\n", o.interval)
	}
	return m.Sample, nil
}

func printSample(w io.Writer, r monitor.SampleResult, o monitorOpts) error {
	r.Tables = nonNil(r.Tables)
	if o.once && r.InMemory && r.Status == monitor.SampleBaseline {
		return nil // --once prints the one sample that follows
	}
	if o.json && o.once {
		return writeJSON(w, r)
	}
	if o.json {
		// One document per line while sampling goes on.
		return json.NewEncoder(w).Encode(r)
	}
	at := r.SampledAt.UTC().Format(time.RFC3339)
	switch r.Status {
	case monitor.SampleBaseline:
		fmt.Fprintf(w, "%s baseline: counters recorded, the next sample shows the writes since now (pg_stat_statements: %s)\n", at, r.Statements)
		return nil
	case monitor.SampleBusy:
		fmt.Fprintf(w, "%s busy: another process is sampling; nothing done\n", at)
		return nil
	}
	fmt.Fprintf(w, "%s sampled %.1f s of writes (pg_stat_statements: %s)\n", at, deref(r.IntervalSeconds), r.Statements)
	if r.InMemory {
		fmt.Fprintln(w, "  sampled in memory: the writes since this command's previous sample, stored nowhere")
	}
	if r.StatsReset {
		fmt.Fprintln(w, "  the statistics were reset or the server restarted since the previous sample: writes before that are lost")
	}
	if len(r.Tables) == 0 {
		fmt.Fprintln(w, "  no writes")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "table\trows\trolled back\thmperf ingest\tthroughput rows/s\tinsert speed rows/s\tms per 1,000 rows")
	for _, ts := range r.Tables {
		rolled := fmt.Sprint(ts.RolledBack)
		if ts.RollbackUnknown > 0 {
			rolled += fmt.Sprintf(" (+? in %d)", ts.RollbackUnknown)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%s\t%s\t%s\n", ts.Table, ts.Rows, rolled, ts.HmperfRows,
			orUnknown(ts.Throughput, 1), orUnknown(ts.InsertSpeed, 1), orUnknown(ts.MsPer1000Rows, 2))
	}
	return tw.Flush()
}

// orUnknown renders v with prec decimals, or "unknown" when nothing
// measured it (never 0).
func orUnknown(v *float64, prec int) string {
	if v == nil {
		return "unknown"
	}
	return fmt.Sprintf("%.*f", prec, *v)
}

func deref(v *float64) float64 {
	if v == nil {
		return 0
	}
	return *v
}
