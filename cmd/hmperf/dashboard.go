package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/pflag"

	"hmperf/cmd/internal/dashsource"
	"hmperf/cmd/internal/oncallcmd"
	"hmperf/tui"
)

// dashboardOpts are the flags of the dashboard.
type dashboardOpts struct {
	globals
	interval   time.Duration
	exportDir  string
	benchRows  int
	benchReps  int
	sampleRate int
	autoIngest bool
	record     oncallcmd.Recording
}

func (o *dashboardOpts) flags(fs *pflag.FlagSet) {
	fs.DurationVar(&o.interval, "interval", 2*time.Second, "refresh interval (0.5s–10s; + and - change it)")
	fs.StringVar(&o.exportDir, "export-dir", ".", "where e writes CSV exports")
	fs.IntVar(&o.benchRows, "bench-rows", 5000, "rows per COPY for a benchmark started with b")
	fs.IntVar(&o.benchReps, "bench-reps", 0, "interleaved repetitions for a benchmark started with b; 0 is automatic, as bench --reps auto")
	fs.IntVar(&o.sampleRate, "sample-rate", 1000, "records per second of the sample ingest started with i")
	fs.BoolVar(&o.autoIngest, "sample-ingest", false, "start a sample ingest at once (always on with the embedded server)")
	registerRecording(fs, &o.record)
}

func runDashboard(ctx context.Context, e env, o *dashboardOpts, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("%w: dashboard takes no arguments (got %q)", errUsage, args[0])
	}
	list, err := o.conn.servers()
	if err != nil {
		return err
	}
	if len(list) > 1 {
		return runFleetDashboard(ctx, e, *o)
	}
	t, err := openSchema(ctx, o.conn, e.stderr)
	if err != nil {
		return err
	}
	defer t.Close()
	pool, err := t.DashboardPool(ctx)
	if err != nil {
		return err
	}
	defer pool.Close()
	src := dashsource.NewFleet([]string{t.Describe()}, []*dashsource.DB{newDBSource(t, pool, *o)})
	defer src.StopIngest()
	ingesting := (t.Embedded() || o.autoIngest) && !t.ReadOnly
	if ingesting {
		if err := src.StartIngest(ctx); err != nil {
			return err
		}
	}
	return runRecorded(ctx, e, *o, src, ingesting)
}

// runFleetDashboard is the dashboard over several servers. A server that
// does not answer at start is shown DOWN rather than refused: on-call opens
// the dashboard precisely when something is down. --sample-ingest starts on
// the server that answers as the primary.
func runFleetDashboard(ctx context.Context, e env, o dashboardOpts) error {
	targets, err := resolveTargets(ctx, o.conn, e.stderr)
	if err != nil {
		return err
	}
	names := make([]string, len(targets))
	srcs := make([]*dashsource.DB, len(targets))
	for i, t := range targets {
		pool, err := t.LazyPool(ctx, 8)
		if err != nil {
			return fmt.Errorf("server %s: %w", t.Name, err)
		}
		defer pool.Close()
		names[i], srcs[i] = t.Name, newDBSource(t.Target, pool, o)
	}
	src := dashsource.NewFleet(names, srcs)
	defer src.StopIngest()
	ingesting := o.autoIngest && !o.conn.readOnly
	if ingesting {
		if _, err := src.Servers(ctx); err != nil {
			return err
		}
		if err := src.StartIngest(ctx); err != nil {
			return err
		}
	}
	return runRecorded(ctx, e, o, src, ingesting)
}

// runRecorded runs the dashboard over src while recording it.
func runRecorded(ctx context.Context, e env, o dashboardOpts, src *dashsource.Fleet, ingesting bool) error {
	stop, err := o.record.Start(ctx, src, o.interval, version, e.stderr)
	if err != nil {
		return err
	}
	defer stop()
	return tui.Run(ctx, src, tui.Options{Interval: o.interval, ExportDir: o.exportDir, IngestRunning: ingesting, Procs: procsSetter()})
}

// newDBSource is the dashboard's data source of t, reading through pool.
func newDBSource(t *target, pool *pgxpool.Pool, o dashboardOpts) *dashsource.DB {
	return dashsource.New(t, pool, dashsource.Options{ReadOnly: t.ReadOnly, LockWait: t.LockPolicy(nil),
		BenchRows: o.benchRows, BenchReps: o.benchReps, SampleRate: o.sampleRate})
}

// procsSetter lets the dashboard run on one P while no job runs, unless a
// GOMAXPROCS in the environment chose how many.
func procsSetter() func(int) int {
	if os.Getenv("GOMAXPROCS") != "" {
		return nil
	}
	return runtime.GOMAXPROCS
}
