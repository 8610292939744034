package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgxpool"

	"hmperf/migrations"
	"hmperf/queries"
	"hmperf/queries/bench"
	"hmperf/queries/dash"
	"hmperf/queries/indexq"
	"hmperf/queries/monitor"
	"hmperf/tui/source"
)

// dbSource is the dashboard's data source over PostgreSQL: each Poller
// method reads only what its panel shows, and maps the query types to the
// dashboard's plain ones.
type dbSource struct {
	t    *target
	pool *pgxpool.Pool
	opts dashboardOpts

	// alerts and status are shared by the panels that read them in the
	// same tick (see recentReads).
	alerts recent[[]monitor.Alert]
	status recent[migrations.Status]

	mu sync.Mutex
	// sample is the sample ingest started with i (or at start), nil when
	// none was; sampleErr why the last one could not start.
	sample    *sampleRun
	sampleErr error

	// noSampling is set once sampling the service's writes cannot work in
	// this session (schema older than 0025, no privilege): the Constraints
	// poll then only reads.
	noSampling atomic.Bool
	// lastSample is when this session last sampled (Unix ns).
	lastSample atomic.Int64

	// roleKnown and replica are the server's role: set by each Servers
	// poll, or asked once by the first write or sample that needs it. A
	// replica is never written to, not even by the sampler.
	roleKnown, replica atomic.Bool
}

// sampleSpacing is the least time between two of the dashboard's samples: a
// backend publishes its table statistics at most once a second, so sampling
// more often sees nothing more, and a fast poll loop (r pressed, several
// panels) does not pay for it every time.
const sampleSpacing = time.Second

// explain rewrites *err, a poll's error, into words the dashboard shows.
func (s *dbSource) explain(ctx context.Context, err *error) { *err = explain(ctx, s.pool, *err) }

func newDBSource(t *target, pool *pgxpool.Pool, o dashboardOpts) *dbSource {
	return &dbSource{t: t, pool: pool, opts: o,
		alerts: recent[[]monitor.Alert]{ttl: recentReads}, status: recent[migrations.Status]{ttl: recentReads}}
}

func (s *dbSource) Overview(ctx context.Context) (_ source.Overview, err error) {
	defer s.explain(ctx, &err)
	var o source.Overview
	o.Server = s.t.Describe()
	if o.ServerVersion, err = dash.ServerVersion(ctx, s.pool); err != nil {
		return o, err
	}
	ms, err := s.Migrations(ctx)
	if err != nil {
		return o, err
	}
	o.SchemaVersion, o.Dirty, o.Database, o.Next = ms.Current, ms.Dirty, ms.Summary, ms.Next
	for _, m := range ms.Migrations {
		if !m.Applied {
			o.PendingMigrations++
		}
	}
	s.overviewAlerts(ctx, &o)
	if !schemaHas(ms, monitoringVersion) {
		return o, nil // ingest stats and benchmarks come with the schema
	}
	if err := s.overviewData(ctx, &o); err != nil {
		return o, err
	}
	return o, nil
}

// overviewAlerts counts the firing alerts, or says in o.AlertsUnknown why
// the check could not run, whatever the reason, as `hmperf alerts` exits 3
// for any of them. A lost connection fails the overview's next query.
func (s *dbSource) overviewAlerts(ctx context.Context, o *source.Overview) {
	alerts, err := s.readAlerts(ctx)
	if err != nil {
		o.AlertsUnknown = explain(ctx, s.pool, err).Error()
		return
	}
	for _, a := range alerts {
		if a.Severity == monitor.Critical {
			o.CriticalAlerts++
		} else {
			o.WarningAlerts++
		}
	}
}

func (s *dbSource) overviewData(ctx context.Context, o *source.Overview) error {
	rate, err := dash.IngestRate(ctx, s.pool, 5*time.Minute, 5*time.Second)
	if err != nil {
		return err
	}
	for _, p := range rate {
		o.IngestRate = append(o.IngestRate, source.RatePoint{At: p.At, RowsPerSec: p.RowsPerSec})
	}
	// Only a finished run has verdicts: one still running or cancelled
	// has not made the repetitions it planned.
	last, err := bench.LatestDone(ctx, s.pool)
	if errors.Is(err, bench.ErrNoRuns) {
		return nil
	}
	if err != nil {
		return err
	}
	o.VerdictsRun = last.ID
	for _, c := range last.Comparisons {
		for _, v := range c.Verdicts {
			o.Verdicts = append(o.Verdicts, source.Verdict{Table: c.Pair, Claim: claimWording[v.Claim], Short: claimShort[v.Claim], Claimed: v.Claimed,
				Measured: v.Measured, Unit: v.Unit, CILow: v.CILow, CIHigh: v.CIHigh, Reps: v.Reps,
				Outcome: string(v.Verdict), Why: v.Why})
		}
	}
	return nil
}

// monitoringVersion is the migration that creates the last of what the
// overview reads (alerts and the constraint monitor).
const monitoringVersion = 23

// schemaHas reports whether migration v is applied and not half-done.
func schemaHas(ms source.MigrationStatus, v int) bool {
	return ms.Current > v || ms.Current == v && !ms.Dirty
}

func (s *dbSource) Constraints(ctx context.Context) (_ []source.ConstraintRow, err error) {
	defer s.explain(ctx, &err)
	s.sampleWrites(ctx)
	hours, err := monitor.Recent(ctx, s.pool, 48*8)
	if err != nil {
		return nil, err
	}
	out := make([]source.ConstraintRow, len(hours))
	for i, h := range hours {
		// hmperf's own timed rows/s and the service's two speeds stay
		// apart: each is nil where nothing measured it, never 0.
		out[i] = source.ConstraintRow{Table: h.Table, HourBucket: h.HourBucket, Rows: h.Rows,
			RowsPerSec: finite(h.RowsPerSec), MsPer1000Rows: finite(h.MsPer1000Rows), OverheadPct: finite(h.OverheadPct),
			Failures: h.Failures, FailuresUnobserved: h.FailuresUnobserved, ValidationRejected: h.ValidationRejected,
			ObservedRows: h.ObservedRows, RolledBackRows: h.RolledBackRows,
			Throughput: finite(h.Throughput), InsertSpeed: finite(h.InsertSpeed)}
	}
	return out, nil
}

// sampleWrites takes one sample of the service's writes as the dashboard
// polls, unless the session is read-only, and never waits for another
// sampler (its sample covers this moment too). A failed sample does not
// fail the poll: the panel shows what is stored.
func (s *dbSource) sampleWrites(ctx context.Context) {
	if s.ReadOnly() || s.noSampling.Load() {
		return
	}
	if replica, err := s.isReplica(ctx); err != nil || replica {
		return // a replica's monitor is read, never written
	}
	now := time.Now().UnixNano()
	last := s.lastSample.Load()
	if now-last < int64(sampleSpacing) || !s.lastSample.CompareAndSwap(last, now) {
		return
	}
	_, err := monitor.TrySample(ctx, s.pool)
	if samplingImpossible(err) {
		s.noSampling.Store(true)
	}
}

// samplingImpossible reports the errors that will not go away by the next
// poll: no sampler in the schema, no privilege, a read-only transaction.
func samplingImpossible(err error) bool {
	return queries.IsUndefined(err) || queries.IsPrivilege(err) || queries.Code(err) == pgerrcode.ReadOnlySQLTransaction
}

// finite is p, or nil when p is nil or NaN.
func finite(p *float64) *float64 {
	if p == nil || math.IsNaN(*p) {
		return nil
	}
	return p
}

func (s *dbSource) Alerts(ctx context.Context) (_ []source.Alert, err error) {
	defer s.explain(ctx, &err)
	alerts, err := s.readAlerts(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]source.Alert, len(alerts))
	for i, a := range alerts {
		out[i] = source.Alert{Name: a.Name, Severity: source.Severity(a.Severity), Table: a.Table,
			Observed: a.Observed, Threshold: a.Threshold, FiringSince: a.FiringSince, Message: a.Message}
	}
	return out, nil
}

func (s *dbSource) Indexes(ctx context.Context) (_ []source.IndexJob, err error) {
	defer s.explain(ctx, &err)
	jobs, err := indexq.Status(ctx, s.pool)
	if err != nil {
		return nil, err
	}
	out := make([]source.IndexJob, len(jobs))
	for i, j := range jobs {
		out[i] = source.IndexJob{ID: j.ID, Table: j.Table, Index: j.Index, Kind: j.Method, Strategy: j.Strategy,
			Status: source.IndexStatus(j.Status), ScheduledAt: j.ScheduledAt, StartedAt: j.StartedAt,
			FinishedAt: j.FinishedAt, Attempts: j.Attempts, Error: j.Error}
		if p := j.Progress; p != nil {
			out[i].Phase, out[i].BlocksDone, out[i].BlocksTotal = p.Phase, p.BlocksDone, p.BlocksTotal
		}
	}
	return out, nil
}

func (s *dbSource) Benchmarks(ctx context.Context) (_ source.BenchHistory, err error) {
	defer s.explain(ctx, &err)
	var h source.BenchHistory
	runs, err := bench.History(ctx, s.pool, 20)
	if err != nil || len(runs) == 0 {
		return h, err
	}
	for _, r := range runs {
		table := "all"
		if len(r.Tables) == 1 {
			table = r.Tables[0]
		}
		h.Runs = append(h.Runs, source.BenchRun{ID: r.ID, At: r.StartedAt, Table: table, Rows: r.Rows, Reps: r.Reps, ServerVersion: r.Server.Version, Status: r.Status})
	}
	latest, err := bench.ByID(ctx, s.pool, runs[0].ID)
	if err != nil {
		return h, err
	}
	for _, v := range latest.Results {
		h.Results = append(h.Results, source.VariantResult{Table: v.Table, Variant: source.Variant(v.Variant),
			MedianRPS: v.MedianRPS, MinRPS: v.MinRPS, MaxRPS: v.MaxRPS, OverheadPct: v.OverheadPct,
			OverheadLow: v.OverheadLow, OverheadHigh: v.OverheadHigh})
	}
	for _, c := range latest.Comparisons {
		h.Comparisons = append(h.Comparisons, source.Comparison{Pair: c.Pair, RatioMedian: c.RatioMedian, RatioMin: c.RatioMin,
			RatioMax: c.RatioMax, ClaimedPct: c.ClaimedImprovementPct, MeasuredPct: c.MeasuredImprovementPct,
			CILow: c.CILow, CIHigh: c.CIHigh, Reps: c.Reps, Verdict: string(c.Verdict)})
	}
	return h, nil
}

func (s *dbSource) Ingest(ctx context.Context) (_ source.IngestStats, err error) {
	defer s.explain(ctx, &err)
	var st source.IngestStats
	batches, err := dash.RecentBatches(ctx, s.pool, 100)
	if err != nil {
		return st, err
	}
	for _, b := range batches {
		st.Batches = append(st.Batches, source.IngestBatch{At: b.At, Table: b.Table, Received: b.Received, Inserted: b.Inserted,
			Duplicates: b.Duplicates, Rejected: b.Rejected, ValidationRejected: b.ValidationRejected,
			ConstraintFailures: b.ConstraintFailures, Unsupported: b.Unsupported, RowsPerSec: b.RowsPerSec})
	}
	sum, err := dash.Summary(ctx, s.pool, time.Now().Add(-time.Hour), 20)
	if err != nil {
		return st, err
	}
	for _, r := range sum.Reasons {
		st.Rejects = append(st.Rejects, source.ReasonCount{Reason: r.Reason, Count: r.Count})
	}
	st.CacheHits, st.CacheMisses = sum.CacheHits, sum.CacheMisses
	st.SampleTarget, st.SampleFailed = s.sampleTarget(ctx), s.sampleFailed()
	return st, nil
}

func (s *dbSource) Migrations(ctx context.Context) (_ source.MigrationStatus, err error) {
	defer s.explain(ctx, &err)
	st, err := s.readStatus(ctx)
	if err != nil {
		return source.MigrationStatus{}, err
	}
	out := source.MigrationStatus{Current: int(st.Version), Dirty: st.Dirty, Summary: st.Summary, Next: st.Next}
	for _, m := range st.Migrations {
		out.Migrations = append(out.Migrations, source.Migration{Version: int(m.Version), Name: m.Name, Applied: m.Applied,
			Adopted: m.Applied && st.Adopted() && m.Version <= migrations.BaseVersion})
	}
	if schemaHas(out, rolloutVersion) {
		if out.Rollouts, err = rolloutsInFlight(ctx, s.pool); err != nil {
			return source.MigrationStatus{}, err
		}
	}
	return out, nil
}

// ReadOnly reports the --read-only flag.
func (s *dbSource) ReadOnly() bool { return s.t.readOnly }

// setRole records the server's role as a Servers poll read it.
func (s *dbSource) setRole(replica bool) {
	s.replica.Store(replica)
	s.roleKnown.Store(true)
}

// isReplica reports whether the server is a replica, asking it once when
// no Servers poll has said yet.
func (s *dbSource) isReplica(ctx context.Context) (bool, error) {
	if s.roleKnown.Load() {
		return s.replica.Load(), nil
	}
	var replica bool
	if err := s.pool.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&replica); err != nil {
		return false, err
	}
	s.setRole(replica)
	return replica, nil
}

// writable says why this session may not write to the server: --read-only,
// or the server is a replica (or cannot say whether it is one).
func (s *dbSource) writable(ctx context.Context) error {
	if s.ReadOnly() {
		return errReadOnly
	}
	replica, err := s.isReplica(ctx)
	if err != nil {
		return fmt.Errorf("ask %s whether it is a replica: %w", s.t.Describe(), err)
	}
	if replica {
		return fmt.Errorf("%s: %w", s.t.Describe(), errReplica)
	}
	return nil
}

func (s *dbSource) RunBenchmark(ctx context.Context, table string, progress func(source.BenchProgress)) error {
	if err := s.writable(ctx); err != nil {
		return err
	}
	if err := queries.Require(ctx, s.pool, "the dashboard's benchmark", bench.Needs); err != nil {
		return err
	}
	tables, err := bench.ParseTables(table)
	if err != nil {
		return err
	}
	// The panel cannot say "waiting": beside another benchmark it refuses
	// at once, naming that run, rather than sit on a frozen progress line.
	_, err = bench.Run(ctx, s.pool, bench.Options{Tables: tables, Rows: s.opts.benchRows, Reps: s.opts.benchReps, Seed: 1, LockWait: s.t.lockPolicy(nil), TurnWait: -1,
		Progress: func(p bench.Progress) {
			bp := source.BenchProgress{Table: p.Table, Variant: source.Variant(p.Variant), Rep: p.Rep, Reps: p.Reps, Step: p.Step, Steps: p.Steps,
				Ratio: p.Ratio.Median}
			if p.Ratio.Bounded {
				lo, hi := p.Ratio.Low, p.Ratio.High
				bp.RatioLow, bp.RatioHigh = &lo, &hi
			}
			progress(bp)
		}})
	return err
}

func (s *dbSource) StartIngest(ctx context.Context) error {
	if err := s.writable(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sample != nil {
		if ended, _ := s.sample.Ended(); !ended {
			return nil
		}
	}
	// The ingest outlives the key press that started it: it stops with
	// StopIngest or when the dashboard's own context ends.
	run, err := startSampleIngest(context.WithoutCancel(ctx), s.pool, s.opts.sampleRate)
	s.sample, s.sampleErr = run, err
	return err
}

// ingestStopWait bounds how long StopIngest waits for the batch in flight.
const ingestStopWait = 10 * time.Second

// StopIngest cancels the sample ingest and waits until its goroutine has
// ended (its batch in flight is rolled back), at most ingestStopWait.
func (s *dbSource) StopIngest() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sample == nil {
		return nil
	}
	err := s.sample.stopWithin(ingestStopWait)
	s.sample, s.sampleErr = nil, nil
	return err
}

// sampleFailed is why the sample ingest ended or could not start, "" while
// it runs or when none was started.
func (s *dbSource) sampleFailed() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sampleErr != nil {
		return s.sampleErr.Error()
	}
	if s.sample == nil {
		return ""
	}
	if ended, err := s.sample.Ended(); ended && err != nil {
		return err.Error()
	}
	return ""
}

// sampleTarget says where the sample ingest writes generated rows, as
// StartIngest decides it; unknown when the database cannot be classified.
func (s *dbSource) sampleTarget(ctx context.Context) source.WriteTarget {
	st, err := s.readStatus(ctx)
	switch {
	case err != nil:
		return source.TargetUnknown
	case ours(st):
		return source.TargetLive
	}
	return source.TargetSandbox
}

// readAlerts runs the alert check, or shares the answer of one that ran
// within recentReads.
func (s *dbSource) readAlerts(ctx context.Context) ([]monitor.Alert, error) {
	return s.alerts.get(func() ([]monitor.Alert, error) { return monitor.Alerts(ctx, s.pool) })
}

// readStatus reads the schema's status, or shares one read within
// recentReads.
func (s *dbSource) readStatus(ctx context.Context) (migrations.Status, error) {
	return s.status.get(func() (migrations.Status, error) { return migrations.ReadStatus(ctx, s.pool, nil) })
}

func (s *dbSource) ProcessIndexes(ctx context.Context) error {
	if err := s.writable(ctx); err != nil {
		return err
	}
	if err := queries.Require(ctx, s.pool, "the dashboard's index builds", indexq.Needs); err != nil {
		return err
	}
	_, err := indexq.Process(ctx, s.pool, indexq.DefaultWorkerID(), 0)
	return err
}

func (s *dbSource) withMigrator(ctx context.Context, action string, fn func(*migrations.Migrator) error) error {
	if err := s.writable(ctx); err != nil {
		return err
	}
	m, err := s.t.migrator(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	m.SetLockWait(s.t.lockPolicy(nil))
	// The schema changes: the panels must not be shown the status from
	// before it.
	defer s.status.forget()
	defer s.alerts.forget()
	if err := fn(m); err != nil {
		return migrateFailure(ctx, m, action, err)
	}
	return nil
}

func (s *dbSource) MigrateUp(ctx context.Context) error {
	return s.withMigrator(ctx, "up", func(m *migrations.Migrator) error { return m.UpContext(ctx) })
}

func (s *dbSource) MigrateDown(ctx context.Context, n int) error {
	return s.withMigrator(ctx, "down", func(m *migrations.Migrator) error { return m.DownContext(ctx, n) })
}

func (s *dbSource) Force(ctx context.Context, version int) error {
	return s.withMigrator(ctx, "force", func(m *migrations.Migrator) error { return m.ForceContext(ctx, version) })
}
