// Package dashsource is the dashboard's data source over PostgreSQL: it
// reads each panel's data through the queries packages and maps it to the
// plain types of tui/source, and it runs the writes the dashboard's keys
// start (benchmark, sample ingest, index builds, migrations) on the primary,
// under the write policy. It sits under cmd because it imports both sides,
// which only the command layer may.
package dashsource

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"hmperf/migrations"
	"hmperf/queries"
	"hmperf/queries/activity"
	"hmperf/queries/bench"
	"hmperf/queries/dash"
	"hmperf/queries/indexq"
	"hmperf/queries/lockwait"
	"hmperf/queries/monitor"
	"hmperf/queries/writepolicy"
	"hmperf/tui/source"
)

// Server is the server a DB reads and writes, as the command line resolved
// it.
type Server interface {
	// Describe names the server without its password.
	Describe() string
	// DescribeError names the server in a failed read's error.
	DescribeError(err error) error
	// Migrator opens a Migrator on a connection of its own.
	Migrator(ctx context.Context) (*migrations.Migrator, error)
}

// Options are the dashboard's settings that the data source acts on.
type Options struct {
	ReadOnly   bool            // --read-only: every write is refused
	LockWait   lockwait.Policy // how a step that locks the service's tables retries
	BenchRows  int             // rows per COPY of a benchmark started with b
	BenchReps  int             // its interleaved repetitions; 0 is automatic
	SampleRate int             // records per second of the sample ingest
}

// DB is the dashboard's data source over one PostgreSQL server: each Poller
// method reads only what its panel shows, and maps the query types to the
// dashboard's plain ones.
type DB struct {
	srv  Server
	pool *pgxpool.Pool
	opts Options

	// alerts and status are shared by the panels that read them in the
	// same tick (see recentReads).
	alerts recent[[]monitor.Alert]
	status recent[migrations.Status]
	// polls are the panels' answers, for a poll that accepts an older one.
	polls answers
	// sessions reads the Activity panel's snapshots.
	sessions activity.Reader

	mu sync.Mutex
	// lastDone is the latest finished benchmark run the Overview read.
	lastDone *finishedRun
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
func (s *DB) explain(ctx context.Context, err *error) { *err = Explain(ctx, s.pool, *err) }

// New is the data source of srv, reading through pool.
func New(srv Server, pool *pgxpool.Pool, o Options) *DB {
	return &DB{srv: srv, pool: pool, opts: o,
		alerts: recent[[]monitor.Alert]{ttl: recentReads}, status: recent[migrations.Status]{ttl: recentReads}}
}

func (s *DB) Overview(ctx context.Context) (_ source.Overview, err error) {
	defer s.explain(ctx, &err)
	var o source.Overview
	o.Server = s.srv.Describe()
	if o.ServerVersion, err = s.serverVersion(ctx); err != nil {
		return o, err
	}
	// The schema's state without the rollouts, which the Overview does not
	// show: a round trip less on every tick.
	ms, err := s.schemaStatus(ctx)
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
	if !schemaHas(ms, int(migrations.MonitoringVersion)) {
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
func (s *DB) overviewAlerts(ctx context.Context, o *source.Overview) {
	alerts, err := s.readAlerts(ctx)
	if err != nil {
		o.AlertsUnknown = Explain(ctx, s.pool, err).Error()
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

func (s *DB) overviewData(ctx context.Context, o *source.Overview) error {
	// One round trip for both: the Overview is read every tick.
	var rate []dash.RatePoint
	var key bench.RunKey
	b := &pgx.Batch{}
	dash.QueueIngestRate(b, 5*time.Minute, 5*time.Second, &rate)
	// Only a finished run has verdicts: one still running or cancelled
	// has not made the repetitions it planned.
	bench.QueueLatestDone(b, &key)
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return err
	}
	for _, p := range rate {
		o.IngestRate = append(o.IngestRate, source.RatePoint{At: p.At, RowsPerSec: p.RowsPerSec})
	}
	if key.ID == 0 {
		return nil
	}
	last, err := s.doneRun(ctx, key)
	if err != nil {
		return err
	}
	o.VerdictsRun = last.ID
	for _, c := range last.Comparisons {
		for _, v := range c.Verdicts {
			o.Verdicts = append(o.Verdicts, source.Verdict{Table: c.Pair, Claim: bench.ClaimWording(v.Claim), Short: bench.ClaimShort(v.Claim), Claimed: v.Claimed,
				Measured: v.Measured, Unit: v.Unit, CILow: v.CILow, CIHigh: v.CIHigh, Reps: v.Reps,
				Outcome: string(v.Verdict), Why: v.Why})
		}
	}
	return nil
}

// doneRun reads the finished run key, or gives the one read before: a
// finished run does not change, and reading it (its measurements, then
// their confidence intervals) on every tick would be for nothing.
func (s *DB) doneRun(ctx context.Context, key bench.RunKey) (*bench.Result, error) {
	s.mu.Lock()
	kept := s.lastDone
	s.mu.Unlock()
	if kept != nil && kept.key == key {
		return kept.run, nil
	}
	run, err := bench.ByID(ctx, s.pool, key.ID)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.lastDone = &finishedRun{key: key, run: run}
	s.mu.Unlock()
	return run, nil
}

// finishedRun is a finished benchmark run, under its key.
type finishedRun struct {
	key bench.RunKey
	run *bench.Result
}

// schemaHas reports whether migration v is applied and not half-done.
func schemaHas(ms source.MigrationStatus, v int) bool {
	return ms.Current > v || ms.Current == v && !ms.Dirty
}

func (s *DB) Constraints(ctx context.Context) (_ []source.ConstraintRow, err error) {
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
func (s *DB) sampleWrites(ctx context.Context) {
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
	return queries.IsUndefined(err) || queries.IsPrivilege(err) || queries.Classify(err) == queries.KindReadOnly
}

// finite is p, or nil when p is nil or NaN.
func finite(p *float64) *float64 {
	if p == nil || math.IsNaN(*p) {
		return nil
	}
	return p
}

func (s *DB) Alerts(ctx context.Context) (_ []source.Alert, err error) {
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

func (s *DB) Indexes(ctx context.Context) (_ []source.IndexJob, err error) {
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

func (s *DB) Benchmarks(ctx context.Context) (_ source.BenchHistory, err error) {
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
	if h.Claims, err = claimVerdicts(ctx, s.pool); err != nil {
		return h, err
	}
	// The latest run of the insert pairs: claim runs have no results.
	latest, err := bench.Latest(ctx, s.pool)
	if errors.Is(err, bench.ErrNoRuns) {
		return h, nil
	}
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

// claimVerdicts reads the verdicts of the latest run of each claim for
// the Benchmarks panel.
func claimVerdicts(ctx context.Context, db queries.DBTX) ([]source.Verdict, error) {
	stored, err := bench.LatestClaimVerdicts(ctx, db)
	if err != nil {
		return nil, err
	}
	out := make([]source.Verdict, len(stored))
	for i, v := range stored {
		out[i] = source.Verdict{Table: v.Claim + ": " + v.Subject, Claim: v.Wording, Short: v.Subject, Claimed: v.Claimed,
			Measured: v.Measured, Unit: v.Unit, CILow: v.CILow, CIHigh: v.CIHigh, Reps: v.Reps, Outcome: string(v.Verdict.Verdict), Why: v.Why}
	}
	return out, nil
}

func (s *DB) Ingest(ctx context.Context) (_ source.IngestStats, err error) {
	defer s.explain(ctx, &err)
	var st source.IngestStats
	batches, sum, err := dash.ReadIngest(ctx, s.pool, 100, time.Now().Add(-time.Hour), 20)
	if err != nil {
		return st, err
	}
	for _, b := range batches {
		st.Batches = append(st.Batches, source.IngestBatch{At: b.At, Table: b.Table, Received: b.Received, Inserted: b.Inserted,
			Duplicates: b.Duplicates, Rejected: b.Rejected, ValidationRejected: b.ValidationRejected,
			ConstraintFailures: b.ConstraintFailures, Unsupported: b.Unsupported, RowsPerSec: b.RowsPerSec})
	}
	for _, r := range sum.Reasons {
		st.Rejects = append(st.Rejects, source.ReasonCount{Reason: r.Reason, Count: r.Count})
	}
	st.CacheHits, st.CacheMisses = sum.CacheHits, sum.CacheMisses
	st.SampleTarget, st.SampleFailed = s.sampleTarget(ctx), s.sampleFailed()
	return st, nil
}

func (s *DB) Migrations(ctx context.Context) (_ source.MigrationStatus, err error) {
	defer s.explain(ctx, &err)
	out, err := s.schemaStatus(ctx)
	if err != nil {
		return source.MigrationStatus{}, err
	}
	if schemaHas(out, rolloutVersion) {
		if out.Rollouts, err = rolloutsInFlight(ctx, s.pool); err != nil {
			return source.MigrationStatus{}, err
		}
	}
	return out, nil
}

// serverVersion is the version the server reported when the connection
// opened (its server_version parameter), as SHOW server_version would say
// it, without a round trip on every tick. Where something between hmperf
// and the server kept the parameter back, it asks the server.
func (s *DB) serverVersion(ctx context.Context) (string, error) {
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		return "", err
	}
	defer c.Release()
	if v := c.Conn().PgConn().ParameterStatus("server_version"); v != "" {
		return v, nil
	}
	var v string
	err = c.QueryRow(ctx, "SHOW server_version").Scan(&v)
	return v, err
}

// schemaStatus is the Migrations panel's data but the rollouts.
func (s *DB) schemaStatus(ctx context.Context) (source.MigrationStatus, error) {
	st, err := s.readStatus(ctx)
	if err != nil {
		return source.MigrationStatus{}, err
	}
	out := source.MigrationStatus{Current: int(st.Version), Dirty: st.Dirty, Summary: st.Summary, Next: st.Next}
	for _, m := range st.Migrations {
		out.Migrations = append(out.Migrations, source.Migration{Version: int(m.Version), Name: m.Name, Applied: m.Applied,
			Adopted: m.Applied && st.Adopted() && m.Version <= migrations.BaseVersion})
	}
	return out, nil
}

// Forget drops the answers the panels share within one tick (the alerts,
// the schema status) and those kept for a poll that accepts an older one:
// the next poll reads them afresh.
func (s *DB) Forget() {
	s.alerts.forget()
	s.status.forget()
	s.polls.forget()
}

// SamplingOff reports whether this session gave up sampling the service's
// writes for good (no sampler in the schema, no privilege, read-only).
func (s *DB) SamplingOff() bool { return s.noSampling.Load() }

// ReadOnly reports the --read-only flag.
func (s *DB) ReadOnly() bool { return s.opts.ReadOnly }

// setRole records the server's role as a Servers poll read it.
func (s *DB) setRole(replica bool) {
	s.replica.Store(replica)
	s.roleKnown.Store(true)
}

// isReplica reports whether the server is a replica, asking it once when
// no Servers poll has said yet.
func (s *DB) isReplica(ctx context.Context) (bool, error) {
	if s.roleKnown.Load() {
		return s.replica.Load(), nil
	}
	replica, err := queries.IsReplica(ctx, s.pool)
	if err != nil {
		return false, err
	}
	s.setRole(replica)
	return replica, nil
}

// writable says why this session may not write to the server: --read-only,
// or the server is a replica (or cannot say whether it is one).
func (s *DB) writable(ctx context.Context) error {
	if s.ReadOnly() {
		return ErrReadOnly
	}
	replica, err := s.isReplica(ctx)
	if err != nil {
		return fmt.Errorf("ask %s whether it is a replica: %w", s.srv.Describe(), err)
	}
	if replica {
		return fmt.Errorf("%s: %w", s.srv.Describe(), writepolicy.ErrReplica)
	}
	return nil
}

func (s *DB) RunBenchmark(ctx context.Context, table string, progress func(source.BenchProgress)) error {
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
	_, err = bench.Run(ctx, s.pool, bench.Options{Tables: tables, Rows: s.opts.BenchRows, Reps: s.opts.BenchReps, Seed: 1, LockWait: s.opts.LockWait, TurnWait: -1,
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

func (s *DB) StartIngest(ctx context.Context) error {
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
	run, err := startSampleIngest(context.WithoutCancel(ctx), s.pool, s.opts.SampleRate)
	s.sample, s.sampleErr = run, err
	return err
}

// ingestStopWait bounds how long StopIngest waits for the batch in flight.
const ingestStopWait = 10 * time.Second

// StopIngest ends the sample ingest after its batch in flight and waits
// until its goroutine has ended, at most ingestStopWait (sampleRun.stopWithin).
func (s *DB) StopIngest() error {
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
func (s *DB) sampleFailed() string {
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
func (s *DB) sampleTarget(ctx context.Context) source.WriteTarget {
	st, err := s.readStatus(ctx)
	switch {
	case err != nil:
		return source.TargetUnknown
	case writepolicy.Ours(st):
		return source.TargetLive
	}
	return source.TargetSandbox
}

// readAlerts runs the alert check, or shares the answer of one that ran
// within recentReads.
func (s *DB) readAlerts(ctx context.Context) ([]monitor.Alert, error) {
	return s.alerts.get(ctx, func() ([]monitor.Alert, error) { return monitor.Alerts(ctx, s.pool) })
}

// readStatus reads the schema's status, or shares one read within
// recentReads.
func (s *DB) readStatus(ctx context.Context) (migrations.Status, error) {
	return s.status.get(ctx, func() (migrations.Status, error) { return migrations.ReadStatus(ctx, s.pool, nil) })
}

func (s *DB) ProcessIndexes(ctx context.Context) error {
	if err := s.writable(ctx); err != nil {
		return err
	}
	if err := queries.Require(ctx, s.pool, "the dashboard's index builds", indexq.Needs); err != nil {
		return err
	}
	_, err := indexq.Process(ctx, s.pool, indexq.DefaultWorkerID(), 0)
	return err
}

func (s *DB) withMigrator(ctx context.Context, action string, fn func(*migrations.Migrator) error) error {
	if err := s.writable(ctx); err != nil {
		return err
	}
	m, err := s.srv.Migrator(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	m.SetLockWait(s.opts.LockWait)
	// The schema changes: the panels must not be shown the status from
	// before it.
	defer s.status.forget()
	defer s.alerts.forget()
	if err := fn(m); err != nil {
		return migrations.Failure(ctx, m, action, err)
	}
	return nil
}

func (s *DB) MigrateUp(ctx context.Context) error {
	return s.withMigrator(ctx, "up", func(m *migrations.Migrator) error { return m.UpContext(ctx) })
}

func (s *DB) MigrateDown(ctx context.Context, n int) error {
	return s.withMigrator(ctx, "down", func(m *migrations.Migrator) error { return m.DownContext(ctx, n) })
}

func (s *DB) Force(ctx context.Context, version int) error {
	return s.withMigrator(ctx, "force", func(m *migrations.Migrator) error { return m.ForceContext(ctx, version) })
}
