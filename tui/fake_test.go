package tui

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"hmperf/tui/source"
)

// t0 is the fixed "now" of the tests.
var t0 = time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)

func fixedClock() time.Time { return t0 }

// errConn is what the fake returns while "disconnected".
var errConn = errors.New("connection refused")

// fakeSource is a Source with fixed data. Failing makes every poll fail;
// block makes every poll wait until the context ends.
type fakeSource struct {
	mu       sync.Mutex
	failing  bool
	block    chan struct{}
	readOnly bool
	calls    map[string]int
	benchCtx chan context.Context // receives the context of RunBenchmark
	actions  []string
	noAlerts bool // Alerts answers that none fires
	// bare plays a database without hmperf's schema: the alert check and
	// the panels that read hmperf's objects answer *source.ErrMissing.
	bare bool
	// ingestFailed is the error the Ingest poll reports for a dead sample
	// ingest.
	ingestFailed string
	// fleet are the servers of a set (nil: one server); down marks those
	// the Servers poll cannot read; polledServer is the server
	// (source.ServerOf) of the last poll of each panel.
	fleet        []source.Server
	down         map[int]bool
	polledServer map[string]int
}

// bareObjects is what each poll of a bare database misses.
var bareObjects = map[string]string{
	"alerts":      "function check_constraint_performance_alerts() does not exist",
	"constraints": `relation "real_time_constraint_performance" does not exist`,
	"indexes":     `relation "deferred_index_creation" does not exist`,
	"benchmarks":  `relation "benchmark_runs" does not exist`,
	"ingest":      `relation "ingest_batch_stats" does not exist`,
}

// bareFix is the command a bare database is told to run.
const bareFix = "hmperf migrate adopt, then hmperf migrate up"

func newFake() *fakeSource {
	return &fakeSource{calls: map[string]int{}, benchCtx: make(chan context.Context, 1)}
}

func (f *fakeSource) setFailing(v bool) { f.mu.Lock(); f.failing = v; f.mu.Unlock() }

// count returns how many times the poll name ran.
func (f *fakeSource) count(name string) int { f.mu.Lock(); defer f.mu.Unlock(); return f.calls[name] }

func (f *fakeSource) poll(ctx context.Context, name string) error {
	f.mu.Lock()
	f.calls[name]++
	if f.polledServer == nil {
		f.polledServer = map[string]int{}
	}
	f.polledServer[name] = source.ServerOf(ctx)
	failing, block := f.failing, f.block
	f.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
		}
		return errors.New("released")
	}
	if failing {
		return errConn
	}
	if obj, ok := bareObjects[name]; ok && f.bare {
		return &source.ErrMissing{Object: obj, Fix: bareFix}
	}
	return nil
}

func (f *fakeSource) record(a string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.actions = append(f.actions, a)
	return nil
}

func (f *fakeSource) Overview(ctx context.Context) (source.Overview, error) {
	o := fakeOverview()
	if f.bare {
		o.CriticalAlerts, o.WarningAlerts, o.Verdicts, o.IngestRate = 0, 0, nil, nil
		o.AlertsUnknown = (&source.ErrMissing{Object: bareObjects["alerts"], Fix: bareFix}).Error()
	}
	return o, f.poll(ctx, "overview")
}

func (f *fakeSource) Constraints(ctx context.Context) ([]source.ConstraintRow, error) {
	return fakeConstraints(), f.poll(ctx, "constraints")
}

func (f *fakeSource) Alerts(ctx context.Context) ([]source.Alert, error) {
	if f.noAlerts {
		return nil, f.poll(ctx, "alerts")
	}
	return fakeAlerts(), f.poll(ctx, "alerts")
}

func (f *fakeSource) Indexes(ctx context.Context) ([]source.IndexJob, error) {
	return fakeIndexes(), f.poll(ctx, "indexes")
}

func (f *fakeSource) Benchmarks(ctx context.Context) (source.BenchHistory, error) {
	return fakeBench(), f.poll(ctx, "benchmarks")
}

func (f *fakeSource) Ingest(ctx context.Context) (source.IngestStats, error) {
	st := fakeIngest()
	f.mu.Lock()
	st.SampleFailed = f.ingestFailed
	f.mu.Unlock()
	return st, f.poll(ctx, "ingest")
}

func (f *fakeSource) Migrations(ctx context.Context) (source.MigrationStatus, error) {
	return fakeMigrations(false), f.poll(ctx, "migrations")
}

func (f *fakeSource) ReadOnly() bool { return f.readOnly }

func (f *fakeSource) ServerNames() []string {
	if f.fleet == nil {
		return []string{"fake"}
	}
	names := make([]string, len(f.fleet))
	for i, s := range f.fleet {
		names[i] = s.Name
	}
	return names
}

func (f *fakeSource) Servers(ctx context.Context) ([]source.Server, error) {
	f.mu.Lock()
	out := append([]source.Server(nil), f.fleet...)
	if f.fleet == nil {
		out = []source.Server{{Name: "fake", Role: "primary", Version: "17.6", Connections: 3, TPS: ptr(12.0)}}
	}
	for i := range out {
		if f.down[i] {
			out[i] = source.Server{Name: out[i].Name, Err: "connection refused", AlertsUnknown: "connection refused"}
		}
	}
	f.mu.Unlock()
	return out, f.poll(ctx, "servers")
}

func (f *fakeSource) setDown(i int, v bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down == nil {
		f.down = map[int]bool{}
	}
	f.down[i] = v
}

// lastServer is the server the last poll name was for.
func (f *fakeSource) lastServer(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.polledServer[name]
}

// WritesTo names the first server of a set, as the primary.
func (f *fakeSource) WritesTo() (string, error) {
	if f.fleet == nil {
		return "", nil
	}
	return f.fleet[0].Name, nil
}

// fakeFleet is a primary and two replicas, with lag and alerts.
func fakeFleet() []source.Server {
	return []source.Server{
		{Name: "db1", Role: "primary", Version: "17.6", Standbys: 2, LagBytes: ptr(2048.0), LagSeconds: ptr(0.4),
			Connections: 7, TPS: ptr(120.0), InsertsPerSec: ptr(950.0), Critical: 1},
		{Name: "db2", Role: "replica", Version: "17.6", LagBytes: ptr(1024.0), LagSeconds: ptr(0.2), Connections: 3, TPS: ptr(4.0)},
		{Name: "db3", Role: "replica", Version: "17.6", LagBytes: ptr(0.0), LagSeconds: ptr(0.0), Connections: 2, TPS: ptr(3.0), Warning: 2},
	}
}

// RunBenchmark reports one progress step, then waits for cancellation.
func (f *fakeSource) RunBenchmark(ctx context.Context, table string, progress func(source.BenchProgress)) error {
	f.benchCtx <- ctx
	progress(source.BenchProgress{Table: "nutrition", Variant: source.Optimized, Rep: 1, Reps: 3, Step: 2, Steps: 9})
	<-ctx.Done()
	return ctx.Err()
}

func (f *fakeSource) StartIngest(context.Context) error    { return f.record("start ingest") }
func (f *fakeSource) StopIngest() error                    { return f.record("stop ingest") }
func (f *fakeSource) ProcessIndexes(context.Context) error { return f.record("process indexes") }
func (f *fakeSource) MigrateUp(context.Context) error      { return f.record("up") }
func (f *fakeSource) MigrateDown(_ context.Context, n int) error {
	return f.record(fmt.Sprintf("down %d", n))
}
func (f *fakeSource) Force(_ context.Context, v int) error {
	return f.record(fmt.Sprintf("force %d", v))
}

func fakeOverview() source.Overview {
	rate := make([]source.RatePoint, 40)
	for i := range rate {
		rate[i] = source.RatePoint{At: t0.Add(time.Duration(i-39) * time.Minute), RowsPerSec: float64(8000 + (i*737)%5000)}
	}
	return source.Overview{
		Server: "db.local:5432/health", ServerVersion: "PostgreSQL 15.6",
		SchemaVersion: 22, PendingMigrations: 1, CriticalAlerts: 1, WarningAlerts: 2,
		IngestRate:  rate,
		VerdictsRun: 7,
		Verdicts: []source.Verdict{
			{Table: "nutrition", Claim: "improvement over original", Short: "improvement", Claimed: 65, Measured: -3.2, Unit: "%",
				CILow: ptr(-6.0), CIHigh: ptr(-0.5), Reps: 8, Outcome: source.DoesNotHold},
			{Table: "symptoms", Claim: "optimized throughput", Short: "throughput", Claimed: 1950, Measured: 36795, Unit: source.RowsPerSec,
				Reps: 8, Outcome: source.NotComparable, Why: "measured by COPY"},
			{Table: "activity", Claim: "optimized constraint overhead", Short: "overhead", Claimed: 15, Measured: 23.5, Unit: "%",
				CILow: ptr(9.0), CIHigh: ptr(31.0), Reps: 8, Outcome: source.Inconclusive},
		},
	}
}

// fakeConstraints has the service's writes on activity_metrics_v2 (both
// speeds) and symptoms (throughput only: no pg_stat_statements figure),
// and hmperf's own timed writes on nutrition_metrics and symptoms.
func fakeConstraints() []source.ConstraintRow {
	var rows []source.ConstraintRow
	for h := range 24 {
		for i, t := range []string{"activity_metrics_v2", "nutrition_metrics", "symptoms"} {
			r := source.ConstraintRow{
				Table: t, HourBucket: t0.Add(time.Duration(h-23) * time.Hour),
				Rows: int64(10000 + h*100 + i), OverheadPct: ptr(float64(15+i*12) + float64((h*7)%9)),
				Failures: ptr(int64((h + i) % 7)), ValidationRejected: ptr(int64((h * i) % 11)),
			}
			if i > 0 {
				r.RowsPerSec, r.MsPer1000Rows = ptr(float64(9000-i*1500+h*10)), ptr(110+float64(i*20+h%5))
			}
			if i != 1 {
				r.ObservedRows, r.RolledBackRows = ptr(r.Rows/int64(i+1)), ptr(int64(h%3))
				r.Throughput = ptr(float64(r.Rows/int64(i+1)) / 3600)
			}
			if i == 0 {
				r.InsertSpeed = ptr(float64(52000 + h*100))
			}
			rows = append(rows, r)
		}
	}
	return rows
}

func fakeAlerts() []source.Alert {
	return []source.Alert{
		{Name: "constraint_overhead", Severity: source.Warning, Table: "nutrition_metrics", Observed: 38.5,
			Threshold: 30, FiringSince: t0.Add(-2 * time.Hour), Message: "constraint overhead 38.5% is above 30%"},
		{Name: "constraint_overhead", Severity: source.Critical, Table: "symptoms", Observed: 52.1,
			Threshold: 50, FiringSince: t0.Add(-30 * time.Minute), Message: "constraint overhead 52.1% is above 50%"},
		{Name: "cache_hit_rate", Severity: source.Warning, Table: "activity_metrics_v2", Observed: 41,
			Threshold: 60, FiringSince: t0.Add(-3 * time.Hour), Message: "validation cache hit rate 41% is below 60%"},
	}
}

func fakeIndexes() []source.IndexJob {
	return []source.IndexJob{
		{ID: 1, Table: "activity_metrics_v2", Index: "idx_activity_recorded_brin", Kind: "brin", Strategy: "deferred",
			Status: source.IndexDone, ScheduledAt: t0.Add(-3 * time.Hour), StartedAt: t0.Add(-2 * time.Hour),
			FinishedAt: t0.Add(-time.Hour), Attempts: 1},
		{ID: 2, Table: "nutrition_metrics", Index: "idx_nutrition_user_date", Kind: "btree", Strategy: "deferred",
			Status: source.IndexRunning, ScheduledAt: t0.Add(-time.Hour), StartedAt: t0.Add(-5 * time.Minute),
			Attempts: 1, Phase: "building index: scanning table", BlocksDone: 4500, BlocksTotal: 10000},
		{ID: 3, Table: "symptoms", Index: "idx_symptoms_tags_gin", Kind: "gin", Strategy: "off-peak",
			Status: source.IndexFailed, ScheduledAt: t0.Add(-time.Hour), StartedAt: t0.Add(-50 * time.Minute),
			FinishedAt: t0.Add(-49 * time.Minute), Attempts: 2, Error: "index left INVALID"},
		{ID: 4, Table: "symptoms", Index: "idx_symptoms_user_time", Kind: "btree", Strategy: "deferred",
			Status: source.IndexPending, ScheduledAt: t0.Add(time.Hour)},
	}
}

func fakeBench() source.BenchHistory {
	h := source.BenchHistory{
		Runs: []source.BenchRun{
			{ID: 7, At: t0.Add(-time.Hour), Table: "all", Rows: 100000, Reps: 5, ServerVersion: "15.6", Status: "done"},
			{ID: 6, At: t0.Add(-26 * time.Hour), Table: "nutrition", Rows: 50000, Reps: 3, ServerVersion: "15.6", Status: "interrupted"},
		},
	}
	for i, t := range []string{"nutrition", "symptoms", "activity"} {
		base := float64(20000 - i*3000)
		h.Results = append(h.Results,
			source.VariantResult{Table: t, Variant: source.Original, MedianRPS: base, MinRPS: base * 0.9, MaxRPS: base * 1.1, OverheadPct: 35,
				OverheadLow: ptr(30.0), OverheadHigh: ptr(41.0)},
			source.VariantResult{Table: t, Variant: source.Optimized, MedianRPS: base * 0.97, MinRPS: base * 0.9, MaxRPS: base * 1.05, OverheadPct: 37},
			source.VariantResult{Table: t, Variant: source.Unconstrained, MedianRPS: base * 1.5, MinRPS: base * 1.4, MaxRPS: base * 1.6},
		)
		h.Comparisons = append(h.Comparisons, source.Comparison{Pair: t, RatioMedian: 0.97, RatioMin: 0.9,
			RatioMax: 1.04, ClaimedPct: 40, MeasuredPct: -3, CILow: ptr(-8.0), CIHigh: ptr(2.5), Reps: 8, Verdict: source.DoesNotHold})
	}
	return h
}

func fakeIngest() source.IngestStats {
	var b []source.IngestBatch
	for i := range 12 {
		b = append(b, source.IngestBatch{At: t0.Add(-time.Duration(i) * time.Minute), Table: "heart_rate_metrics",
			Received: 1000, Inserted: 940, Duplicates: 40, Rejected: 15, ValidationRejected: ptr(int64(12)),
			ConstraintFailures: ptr(int64(3)), Unsupported: 5, RowsPerSec: float64(9000 + i*50)})
	}
	return source.IngestStats{Batches: b, CacheHits: 8200, CacheMisses: 1800, SampleTarget: source.TargetSandbox, Rejects: []source.ReasonCount{
		{Reason: "heart_rate out of range [15,300]", Count: 120}, {Reason: "missing recorded_at", Count: 45},
	}}
}

func fakeMigrations(dirty bool) source.MigrationStatus {
	s := source.MigrationStatus{Current: 22, Dirty: dirty}
	names := map[int]string{1: "users", 2: "core_tables", 10: "partitioned_tables", 20: "optimize_nutrition_constraints",
		21: "optimize_symptoms_enum", 22: "optimize_brin_index_creation", 23: "activity_metrics_constraint_monitoring"}
	for _, v := range []int{1, 2, 10, 20, 21, 22, 23} {
		s.Migrations = append(s.Migrations, source.Migration{Version: v, Name: names[v], Applied: v <= 22})
	}
	return s
}

func ptr[T any](v T) *T { return &v }

// Activity is a blocker with a waiter behind it.
func (f *fakeSource) Activity(ctx context.Context) (source.Activity, error) {
	start := time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC)
	age := func(v float64) *float64 { return &v }
	a := source.Activity{At: start, CanSignal: !f.readOnly, Sessions: []source.Session{
		{PID: 201, BackendStart: start, State: "idle in transaction", IdleInTransaction: true, Root: true, HoldsUp: 1,
			XactAge: age(40), QueryAge: age(39), ApplicationName: "psql", Query: "LOCK TABLE symptoms"},
		{PID: 202, BackendStart: start, State: "active", WaitEventType: "Lock", WaitEvent: "relation", BlockedBy: []int{201},
			LockWait: age(31), XactAge: age(31), QueryAge: age(31), ApplicationName: "ingest", Query: "INSERT INTO symptoms VALUES ($1)"},
	}, Roots: []source.LockRoot{{PID: 201, HoldsUp: 1}}}
	return a, f.poll(ctx, "activity")
}

// CancelSession records the signal.
func (f *fakeSource) CancelSession(_ context.Context, pid int, _ time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[fmt.Sprintf("cancel %d", pid)]++
	return nil
}

// TerminateSession records the signal.
func (f *fakeSource) TerminateSession(_ context.Context, pid int, _ time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[fmt.Sprintf("terminate %d", pid)]++
	return nil
}
