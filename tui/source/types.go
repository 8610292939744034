package source

import "time"

// Severity is an alert's level, spelt as check_constraint_performance_alerts()
// returns it.
type Severity string

// The two alert severities.
const (
	Warning  Severity = "WARNING"
	Critical Severity = "CRITICAL"
)

// Overview is the summary on the first panel.
type Overview struct {
	Server            string // host:port/database; never a password
	ServerVersion     string
	SchemaVersion     int
	Dirty             bool
	PendingMigrations int
	// Database and Next are MigrationStatus.Summary and .Next.
	Database, Next string
	CriticalAlerts int
	WarningAlerts  int
	IngestRate     []RatePoint // oldest first
	Verdicts       []Verdict   // from the latest finished benchmark run
	VerdictsRun    int64       // that run's id; 0 when none finished

	// AlertsUnknown is why the alert check could not run (missing
	// function, no privilege, timeout); empty when the counts are valid.
	AlertsUnknown string
}

// RatePoint is the ingest throughput of one batch (or one minute).
type RatePoint struct {
	At         time.Time
	RowsPerSec float64
}

// Verdict sets one of the report's claims against what was measured.
type Verdict struct {
	Table    string
	Claim    string  // what the report claims, e.g. "improvement over original"
	Short    string  // the claim in one word for narrow screens, e.g. "improvement"
	Claimed  float64 // the claimed figure, in Unit
	Measured float64 // the measured median, in Unit
	Unit     string  // "%" or "rows/s"
	// CILow and CIHigh bound Measured at 95%; nil when too few
	// repetitions bound it or it was not measured comparably.
	CILow, CIHigh *float64
	Reps          int
	Outcome       string // Holds, DoesNotHold, Inconclusive or NotComparable
	Why           string // why inconclusive or not comparable
}

// The outcomes of a verdict.
const (
	Holds         = "holds"
	DoesNotHold   = "does not hold"
	Inconclusive  = "inconclusive"
	NotComparable = "not comparable"
)

// RowsPerSec is the Unit of a throughput claim.
const RowsPerSec = "rows/s"

// ConstraintRow is one row of the real_time_constraint_performance view.
// Figures nothing measured are nil, never 0.
type ConstraintRow struct {
	Table      string
	HourBucket time.Time
	Rows       int64 // hmperf's rows and the service's observed rows
	// RowsPerSec and MsPer1000Rows are hmperf's own timed writes (ingest
	// batches, benchmarks); nil in an hour hmperf timed nothing.
	RowsPerSec    *float64
	MsPer1000Rows *float64
	// The service's writes, sampled from the statistics views; nil where
	// no sample covered the hour. Throughput is rows per second of wall
	// time; InsertSpeed rows per second while its INSERT and COPY
	// statements ran (nil without pg_stat_statements).
	ObservedRows   *int64
	RolledBackRows *int64
	Throughput     *float64
	InsertSpeed    *float64
	// OverheadPct is nil where nothing measured it: ingest batches have no
	// unconstrained baseline, only benchmark runs do.
	OverheadPct *float64
	// Failures is the rows PostgreSQL refused with an integrity constraint
	// violation (SQLSTATE class 23); nil where no sample of the hour could
	// observe them (another client's refused rows are counted nowhere).
	// FailuresUnobserved is how many samples could not: beside a count it
	// makes the count a lower bound.
	Failures           *int64
	FailuresUnobserved int64
	// ValidationRejected is the records hmperf's validator stopped before
	// any write, apart from Failures; nil where nothing was validated.
	ValidationRejected *int64
}

// Alert is one firing alert from check_constraint_performance_alerts().
type Alert struct {
	Name        string
	Severity    Severity
	Table       string
	Observed    float64
	Threshold   float64
	FiringSince time.Time
	Message     string
}

// IndexStatus is where a deferred index build stands.
type IndexStatus string

// The states of a deferred index job.
const (
	IndexPending IndexStatus = "pending"
	IndexRunning IndexStatus = "running"
	IndexDone    IndexStatus = "done"
	IndexFailed  IndexStatus = "failed"
)

// IndexJob is one row of the deferred-index queue. Zero times mean "not yet".
// Phase, BlocksDone and BlocksTotal come from pg_stat_progress_create_index
// while the build runs.
type IndexJob struct {
	ID          int64
	Table       string
	Index       string
	Kind        string // btree, brin, gin, ...
	Strategy    string
	Status      IndexStatus
	ScheduledAt time.Time
	StartedAt   time.Time
	FinishedAt  time.Time
	Attempts    int
	Error       string
	Phase       string
	BlocksDone  int64
	BlocksTotal int64
}

// Variant is one of the three tables a benchmark inserts into.
type Variant string

// The benchmark variants.
const (
	Original      Variant = "original"
	Optimized     Variant = "optimized"
	Unconstrained Variant = "unconstrained"
)

// BenchHistory is the stored benchmark runs, newest first, with the detail of
// the latest one.
type BenchHistory struct {
	Runs []BenchRun
	// Results and Comparisons are of the latest run of the insert pairs.
	Results     []VariantResult
	Comparisons []Comparison
	// Claims are the verdicts of the latest run of each of the report's
	// other claims (bench --claim: index strategies, dedup memory, the
	// validation cache); Table holds the claim and its subject.
	Claims []Verdict
}

// BenchRun describes one stored benchmark run.
type BenchRun struct {
	ID            int64
	At            time.Time
	Table         string // a table name or "all"
	Rows          int    // N rows per repetition
	Reps          int    // K repetitions
	ServerVersion string
	// Status is how the run ended: running, done, cancelled, failed, or
	// interrupted (its hmperf ended before recording the end).
	Status string
}

// VariantResult is the throughput of one variant of one table.
type VariantResult struct {
	Table     string
	Variant   Variant
	MedianRPS float64 // rows per second
	MinRPS    float64
	MaxRPS    float64
	// OverheadPct is (t - t_floor) / t_floor in percent, t_floor the
	// unconstrained twin's time; OverheadLow/High its 95% interval (nil
	// when unbounded).
	OverheadPct               float64
	OverheadLow, OverheadHigh *float64
}

// Comparison is optimized against original for one table, beside the
// report's claim.
type Comparison struct {
	Pair        string // e.g. "nutrition optimized/original"
	RatioMedian float64
	RatioMin    float64
	RatioMax    float64
	ClaimedPct  float64
	MeasuredPct float64
	// CILow and CIHigh bound MeasuredPct at 95% (nil when unbounded).
	CILow, CIHigh *float64
	Reps          int
	Verdict       string // Holds, DoesNotHold or Inconclusive
}

// BenchProgress is reported while a benchmark runs.
type BenchProgress struct {
	Table   string
	Variant Variant
	Rep     int // 1-based repetition being run
	Reps    int // 0 while repetitions are automatic
	Step    int // steps done of Steps, over the whole run
	Steps   int
	// Ratio is the table's optimized/original median so far, with its 95%
	// interval once enough repetitions bound one.
	Ratio               float64
	RatioLow, RatioHigh *float64
}

// IngestStats is the recent ingest activity, from the batch stats table,
// and the state of the sample ingest the dashboard starts with i.
type IngestStats struct {
	Batches     []IngestBatch // newest first
	Rejects     []ReasonCount
	CacheHits   int64
	CacheMisses int64
	// SampleTarget is where the sample ingest writes generated rows.
	SampleTarget WriteTarget
	// SampleFailed is the error that ended (or never let start) the
	// sample ingest this dashboard started; empty while it runs, after it
	// was stopped, or before any was started.
	SampleFailed string
}

// WriteTarget is where generated rows go: on a database hmperf did not
// create (adopted ones included) the sandbox, else the live tables.
type WriteTarget int

// The write targets; the zero value is "not known" (the database could not
// be classified).
const (
	TargetUnknown WriteTarget = iota
	TargetLive
	TargetSandbox
)

// String says where generated rows go, in words the panel and the
// confirmation use.
func (t WriteTarget) String() string {
	switch t {
	case TargetLive:
		return "the live tables"
	case TargetSandbox:
		return "the sandbox hmperf_sandbox (live tables untouched)"
	}
	return "a target not known yet"
}

// IngestBatch is one batch's accounting: Received = Inserted + Duplicates +
// Rejected + Unsupported. ValidationRejected (stopped by the validator) and
// ConstraintFailures (refused by PostgreSQL, SQLSTATE class 23) are parts of
// Rejected, nil for batches stored before hmperf counted them apart.
type IngestBatch struct {
	At                 time.Time
	Table              string
	Received           int64
	Inserted           int64
	Duplicates         int64
	Rejected           int64
	ValidationRejected *int64
	ConstraintFailures *int64
	Unsupported        int64
	RowsPerSec         float64
}

// ReasonCount is how many records were rejected for one reason.
type ReasonCount struct {
	Reason string
	Count  int64
}

// MigrationStatus is the schema version and the known migrations.
type MigrationStatus struct {
	Current    int // 0 when nothing is applied
	Dirty      bool
	Migrations []Migration // ascending by version
	// Summary says what the database is: empty, managed by hmperf (adopted
	// or not), managed by another tool, or dirty. Next is what to do about
	// it, as a command line.
	Summary, Next string
	// Rollouts are the `hmperf rollout`s in flight (started or swapped).
	Rollouts []Rollout
}

// Rollout is the progress of one rollout, as hmperf.rollouts stores it.
type Rollout struct {
	Table string
	Phase string // started or swapped
	// Copied and Estimate are the rows the backfill copied and the
	// planner's estimate of the live rows; Done says the backfill ended.
	Copied, Estimate int64
	Done             bool
	// Rate is the backfill's rows per second over its latest run, 0
	// when unknown.
	Rate float64
	// Backlog is the change-log entries waiting to be applied.
	Backlog int64
	// Throttle says why the backfill is paused, "" when it is not.
	Throttle string
	// LockHeldMS is how long the swap held its exclusive lock, 0 before.
	LockHeldMS float64
}

// Migration is one migration file and whether it is applied. Adopted
// marks a base migration recorded by adoption: its tables are the
// service's, not created by hmperf.
type Migration struct {
	Version int
	Name    string
	Applied bool
	Adopted bool
}

// Server is one server of the set the dashboard watches, as one poll of
// every server read it. The figures are those of the poll that last reached
// the server; Err says when this poll did not, and the dashboard then shows
// them as stale.
type Server struct {
	Name    string // as configured: a --servers name or the connection's user@host:port/db
	Role    string // "primary" or "replica"; "" when never reached
	Version string
	// Err is why this poll could not read the server, "" when it answered.
	Err string
	// LagBytes and LagSeconds are the replication lag: on a primary the
	// worst of its standbys (Standbys counts those streaming), on a replica
	// its own. Nil when the server cannot tell.
	LagBytes, LagSeconds *float64
	Standbys             int
	Connections          int
	// TPS is transactions per second of the database, and InsertsPerSec
	// rows inserted per second into the service's tables, between this
	// poll and the previous one; nil when not known (first poll, a reset,
	// a replica's inserts).
	TPS, InsertsPerSec *float64
	// Critical and Warning count the server's firing alerts;
	// AlertsUnknown says why they could not be checked.
	Critical, Warning int
	AlertsUnknown     string
}
