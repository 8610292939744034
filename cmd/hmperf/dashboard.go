package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/pflag"

	"hmperf/engine"
	"hmperf/queries"
	"hmperf/queries/ingest"
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
}

func (o *dashboardOpts) flags(fs *pflag.FlagSet) {
	fs.DurationVar(&o.interval, "interval", 2*time.Second, "refresh interval (0.5s–10s; + and - change it)")
	fs.StringVar(&o.exportDir, "export-dir", ".", "where e writes CSV exports")
	fs.IntVar(&o.benchRows, "bench-rows", 5000, "rows per COPY for a benchmark started with b")
	fs.IntVar(&o.benchReps, "bench-reps", 0, "interleaved repetitions for a benchmark started with b; 0 is automatic, as bench --reps auto")
	fs.IntVar(&o.sampleRate, "sample-rate", 1000, "records per second of the sample ingest started with i")
	fs.BoolVar(&o.autoIngest, "sample-ingest", false, "start a sample ingest at once (always on with the embedded server)")
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
	pool, err := dashboardPool(ctx, t)
	if err != nil {
		return err
	}
	defer pool.Close()
	src := newFleetSource([]string{t.Describe()}, []*dbSource{newDBSource(t, pool, *o)})
	defer src.StopIngest()
	ingesting := (t.Embedded() || o.autoIngest) && !t.readOnly
	if ingesting {
		if err := src.StartIngest(ctx); err != nil {
			return err
		}
	}
	return tui.Run(ctx, src, tui.Options{Interval: o.interval, ExportDir: o.exportDir, IngestRunning: ingesting})
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
	srcs := make([]*dbSource, len(targets))
	for i, t := range targets {
		pool, err := t.lazyPool(ctx, 8)
		if err != nil {
			return fmt.Errorf("server %s: %w", t.name, err)
		}
		defer pool.Close()
		names[i], srcs[i] = t.name, newDBSource(t.target, pool, o)
	}
	src := newFleetSource(names, srcs)
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

// lazyPool is a dashboard pool (JIT off, as dashboardPool) that connects
// on first use, so a server that is down at start does not stop the
// dashboard of the set.
func (t *target) lazyPool(ctx context.Context, size int32) (*pgxpool.Pool, error) {
	t.cfg.RuntimeParams["jit"] = "off"
	return t.newPool(ctx, size)
}

// sampleRun is a paced sample ingest running in its own goroutine, which
// Stop ends and waits for.
type sampleRun struct {
	cancel context.CancelFunc
	done   chan struct{}
	err    error // why the run ended; written before done closes
}

// stopWithin ends the run and waits for its goroutine (its batch in
// flight is rolled back), at most d.
func (r *sampleRun) stopWithin(d time.Duration) error {
	r.cancel()
	select {
	case <-r.done:
		return nil
	case <-time.After(d):
		return fmt.Errorf("the sample ingest did not stop within %s", d)
	}
}

// Ended reports whether the run's goroutine has ended, and the error it
// ended on (nil when it was stopped).
func (r *sampleRun) Ended() (bool, error) {
	select {
	case <-r.done:
		return true, r.err
	default:
		return false, nil
	}
}

// startSampleIngest starts a paced sample ingest that runs until ctx is
// cancelled, Stop is called, or a batch fails for a reason that the next
// batch would meet too: rate records per second, in one batch a second, so
// a first-time user sees the charts move without the ingest taking the
// machine. On a database hmperf did not create the rows go to the sandbox
// (generatedTarget).
func startSampleIngest(ctx context.Context, pool *pgxpool.Pool, rate int) (*sampleRun, error) {
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
	if err := queries.Require(ctx, pool, "the dashboard's sample ingest", ingest.Needs(target)); err != nil {
		return nil, err
	}
	created, err := createdByHmperf(ctx, pool)
	if err != nil {
		return nil, err
	}
	in, err := ingest.Open(ctx, pool, ingest.Options{Context: engine.ContextAPI, Target: target, Generated: true,
		Validator: engine.NewValidator(rules, engine.DefaultPolicy(), cache), Cache: cache,
		CreateUsers: ingest.CreatesUsers(target, created, false)})
	if err != nil {
		return nil, err
	}
	cfg := engine.DefaultGenConfig(uint64(time.Now().UnixNano()))
	if cfg.UserIDs, err = in.SampleUsers(ctx); err != nil {
		return nil, err
	}
	g, err := engine.NewGenerator(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	r := &sampleRun{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.err = paceSample(ctx, in, g, rate)
	}()
	return r, nil
}

// paceSample writes one batch of rate records a second until ctx ends
// (nil) or a batch fails for good (its error). A batch that failed on a
// lost connection or a timeout is not the end: the dashboard shows the
// outage, and the next tick tries again.
func paceSample(ctx context.Context, in *ingest.Ingester, g *engine.Generator, rate int) error {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		err := ingest.RunSample(ctx, in, g, rate, rate, nil)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil && !transient(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// transient reports whether a batch's error is one a later batch may not
// meet: the connection went away or timed out, the server was busy,
// shutting down or starting up, or the batch lost a serialization race.
func transient(err error) bool {
	if pgconn.Timeout(err) || pgconn.SafeToRetry(err) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var netErr net.Error
	var connErr *pgconn.ConnectError
	if errors.As(err, &netErr) || errors.As(err, &connErr) {
		return true
	}
	switch code := queries.Code(err); {
	case pgerrcode.IsConnectionException(code),
		pgerrcode.IsOperatorIntervention(code), // shutdown, cannot connect now, statement timeout
		code == pgerrcode.SerializationFailure, code == pgerrcode.DeadlockDetected,
		code == pgerrcode.TooManyConnections:
		return true
	}
	return false
}

var errReadOnly = errors.New("read-only: writes are disabled")
