package main

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"hmperf/engine"
	"hmperf/queries/ingest"
	"hmperf/tui"
)

// dashboardOpts are the flags of the dashboard.
type dashboardOpts struct {
	conn       connFlags
	interval   time.Duration
	exportDir  string
	benchRows  int
	benchReps  int
	sampleRate int
	autoIngest bool
}

func runDashboard(ctx context.Context, e env, args []string) error {
	var o dashboardOpts
	fs := newFlagSet(e, "dashboard")
	o.conn.register(fs)
	fs.DurationVar(&o.interval, "interval", 2*time.Second, "refresh interval (0.5s–10s; + and - change it)")
	fs.StringVar(&o.exportDir, "export-dir", ".", "where e writes CSV exports")
	fs.IntVar(&o.benchRows, "bench-rows", 5000, "rows per COPY for a benchmark started with b")
	fs.IntVar(&o.benchReps, "bench-reps", 3, "interleaved repetitions for a benchmark started with b")
	fs.IntVar(&o.sampleRate, "sample-rate", 1000, "records per second of the sample ingest started with i")
	fs.BoolVar(&o.autoIngest, "sample-ingest", false, "start a sample ingest at once (always on with the embedded server)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	t, err := openSchema(ctx, o.conn, e.stderr)
	if err != nil {
		return err
	}
	defer t.Close()
	pool, err := dashboardPool(ctx, t)
	if err != nil {
		return err
	}
	defer pool.Close()
	src := newDBSource(t, pool, o)
	defer src.StopIngest()
	ingesting := (t.Embedded() || o.autoIngest) && !t.readOnly
	if ingesting {
		if err := src.StartIngest(ctx); err != nil {
			return err
		}
	}
	return tui.Run(ctx, src, tui.Options{Interval: o.interval, ExportDir: o.exportDir, IngestRunning: ingesting})
}

// dashboardPool opens the dashboard's pool, with JIT compilation off: the
// polls are small reads over bounded time ranges, run every few seconds, and
// the planner's row estimate for the alert check's cross join (thresholds x
// hourly buckets) is far above jit_above_cost, so every poll paid ~50 ms of
// LLVM compilation for a query that runs in under 10 ms (see
// BenchmarkPollCycle). Nothing else on this pool gains from JIT: benchmarks
// and the sample ingest write with COPY and small batches.
func dashboardPool(ctx context.Context, t *target) (*pgxpool.Pool, error) {
	t.cfg.RuntimeParams["jit"] = "off"
	return t.pool(ctx, 8)
}

// startSampleIngest runs a paced sample ingest until ctx is cancelled:
// rate records per second, in one batch a second, so a first-time user sees
// the charts move without the ingest taking the machine. On a database
// hmperf did not create the rows go to the sandbox (generatedTarget). The
// returned channel is closed when the ingest's goroutine has ended.
func startSampleIngest(ctx context.Context, pool *pgxpool.Pool, rate int) (<-chan struct{}, error) {
	rules := engine.DefaultRules()
	cache, err := engine.NewCache(10000, time.Hour, time.Now)
	if err != nil {
		return nil, err
	}
	if err := checkWritable(ctx, pool); err != nil {
		return nil, err
	}
	target, err := generatedTarget(ctx, pool, "")
	if err != nil {
		return nil, err
	}
	in, err := ingest.Open(ctx, pool, ingest.Options{Context: engine.ContextAPI, Target: target,
		Validator: engine.NewValidator(rules, engine.DefaultPolicy(), cache), Cache: cache})
	if err != nil {
		return nil, err
	}
	g, err := engine.NewGenerator(engine.DefaultGenConfig(uint64(time.Now().UnixNano())))
	if err != nil {
		return nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			// A failed batch (a lost connection) is not the end: the
			// dashboard shows the outage, and the next tick tries again.
			_ = ingest.RunSample(ctx, in, g, rate, rate, nil)
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return done, nil
}

var errReadOnly = errors.New("read-only: writes are disabled")
