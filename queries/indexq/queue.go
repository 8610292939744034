// Package indexq is the deferred-index worker: it builds the indexes queued
// in deferred_index_creation with CREATE INDEX CONCURRENTLY, which cannot run
// inside a function or a transaction and so cannot be done by
// auto_process_deferred_indexes() without blocking writers.
//
// Jobs target plain tables or single partitions: PostgreSQL refuses CREATE
// INDEX CONCURRENTLY on a partitioned parent, so a job naming one is failed
// with that reason. Indexes wanted on every partition of a parent are
// queued per partition (enqueue_partition_indexes does that when
// maintain_partitions creates a month).
//
// Life of a job: pending → running (claimed with FOR UPDATE SKIP LOCKED in
// one short statement, attempts+1, worker id) → done (finished_at, index
// size) or, on error, back to pending with next_attempt_at pushed out
// exponentially, until max_attempts, then failed with the error. A build
// that fails leaves an INVALID index behind; the worker drops it.
package indexq

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"hmperf/queries"
	"hmperf/queries/lockwait"
)

// Job statuses.
const (
	Pending = "pending"
	Running = "running"
	Done    = "done"
	Failed  = "failed"
	// Postponed is an outcome, not a stored status: a deferred job below
	// its size threshold went back to pending, due 15 minutes later.
	Postponed = "postponed"
	// Busy is an outcome too: another build was running on the table; the
	// job went back to pending, due 250 ms later, attempt not counted.
	Busy = "busy"
)

// Job is one row of deferred_index_creation. Zero times mean "not yet".
type Job struct {
	ID            int64     `json:"id"`
	Table         string    `json:"table_name"`
	Index         string    `json:"index_name"`
	Method        string    `json:"method"`
	Columns       []string  `json:"columns"`
	Unique        bool      `json:"is_unique"`
	Strategy      string    `json:"strategy"`
	Status        string    `json:"status"`
	ScheduledAt   time.Time `json:"scheduled_at"`
	NextAttemptAt time.Time `json:"next_attempt_at"`
	StartedAt     time.Time `json:"started_at"`
	FinishedAt    time.Time `json:"finished_at"`
	Attempts      int       `json:"attempts"`
	MaxAttempts   int       `json:"max_attempts"`
	Error         string    `json:"error,omitempty"`
	Worker        string    `json:"worker,omitempty"`
	SizeBytes     int64     `json:"index_size_bytes"`
}

// Spec describes an index to queue.
type Spec struct {
	Table       string
	Index       string
	Method      string // brin, btree or gin
	Columns     []string
	Unique      bool
	MaxAttempts int // 0 keeps the table's default
}

// Enqueue queues an index build with strategy "deferred", due now. Names are
// not checked here: the worker checks every job it claims, however it got
// into the queue.
func Enqueue(ctx context.Context, db queries.DBTX, s Spec) (int64, error) {
	var id int64
	err := db.QueryRow(ctx, `
		INSERT INTO deferred_index_creation (table_name, index_name, method, columns, is_unique, strategy, max_attempts)
		VALUES ($1, $2, $3, $4, $5, 'deferred', coalesce(nullif($6, 0), 3)) RETURNING id`,
		s.Table, s.Index, s.Method, s.Columns, s.Unique, s.MaxAttempts).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("queue index %s: %w", s.Index, err)
	}
	return id, nil
}

const jobColumns = `id, table_name, index_name, method, coalesce(columns, '{}'), is_unique, strategy, status,
	scheduled_at, coalesce(next_attempt_at, scheduled_at), coalesce(started_at, 'epoch'), coalesce(finished_at, 'epoch'),
	attempts, max_attempts, coalesce(error, ''), coalesce(worker, ''), coalesce(index_size_bytes, 0)`

func scanJob(row pgx.CollectableRow) (Job, error) {
	var j Job
	err := row.Scan(&j.ID, &j.Table, &j.Index, &j.Method, &j.Columns, &j.Unique, &j.Strategy, &j.Status,
		&j.ScheduledAt, &j.NextAttemptAt, &j.StartedAt, &j.FinishedAt,
		&j.Attempts, &j.MaxAttempts, &j.Error, &j.Worker, &j.SizeBytes)
	j.StartedAt, j.FinishedAt = zeroEpoch(j.StartedAt), zeroEpoch(j.FinishedAt)
	return j, err
}

func zeroEpoch(t time.Time) time.Time {
	if t.Unix() == 0 {
		return time.Time{}
	}
	return t
}

// Queue lists every job: pending and running first, then the most recently
// finished.
func Queue(ctx context.Context, db queries.DBTX) ([]Job, error) {
	rows, err := db.Query(ctx, "SELECT "+jobColumns+` FROM deferred_index_creation
		ORDER BY status IN ('done', 'failed'), coalesce(finished_at, scheduled_at) DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("read the index queue: %w", err)
	}
	jobs, err := pgx.CollectRows(rows, scanJob)
	if err != nil {
		return nil, fmt.Errorf("read the index queue: %w", err)
	}
	return jobs, nil
}

// JobByID reads one job.
func JobByID(ctx context.Context, db queries.DBTX, id int64) (Job, error) {
	rows, err := db.Query(ctx, "SELECT "+jobColumns+" FROM deferred_index_creation WHERE id = $1", id)
	if err != nil {
		return Job{}, err
	}
	return pgx.CollectExactlyOneRow(rows, scanJob)
}

// Progress is a build in progress, from pg_stat_progress_create_index.
type Progress struct {
	PID         int    `json:"pid"`
	Table       string `json:"table_name"`
	Index       string `json:"index_name"` // empty until the catalog entry exists
	Command     string `json:"command"`
	Phase       string `json:"phase"`
	BlocksDone  int64  `json:"blocks_done"`
	BlocksTotal int64  `json:"blocks_total"`
	TuplesDone  int64  `json:"tuples_done"`
	TuplesTotal int64  `json:"tuples_total"`
}

// Builds lists every index build running on the server now (any client's,
// not only this worker's), readable from any connection while they run.
func Builds(ctx context.Context, db queries.DBTX) ([]Progress, error) {
	rows, err := db.Query(ctx, `
		SELECT p.pid, coalesce(t.relname::text, ''), coalesce(i.relname::text, ''), p.command, p.phase,
		       p.blocks_done, p.blocks_total, p.tuples_done, p.tuples_total
		  FROM pg_stat_progress_create_index p
		  LEFT JOIN pg_class t ON t.oid = p.relid
		  LEFT JOIN pg_class i ON i.oid = p.index_relid AND p.index_relid <> 0
		 WHERE p.datid = (SELECT oid FROM pg_database WHERE datname = current_database())
		 ORDER BY p.pid`)
	if err != nil {
		return nil, fmt.Errorf("read index build progress: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Progress])
}

// JobStatus is a job with the live progress of its build, when running.
type JobStatus struct {
	Job
	Progress *Progress `json:"progress,omitempty"`
}

// Status reads the queue and joins the running builds to their jobs by
// index name (or, before the index has a catalog entry, by table).
func Status(ctx context.Context, db queries.DBTX) ([]JobStatus, error) {
	jobs, err := Queue(ctx, db)
	if err != nil {
		return nil, err
	}
	builds, err := Builds(ctx, db)
	if err != nil {
		return nil, err
	}
	out := make([]JobStatus, len(jobs))
	for i, j := range jobs {
		out[i].Job = j
		if j.Status == Running {
			out[i].Progress = buildOf(j, builds)
		}
	}
	return out, nil
}

func buildOf(j Job, builds []Progress) *Progress {
	for i, b := range builds {
		if b.Index == j.Index || (b.Index == "" && b.Table == j.Table) {
			return &builds[i]
		}
	}
	return nil
}

// MaintainPartitions runs maintain_partitions(): it creates the months ahead
// for every table in partition_maintenance and, through the 0022 strategy
// hook, applies index_creation_strategy to each new partition (immediate:
// built at once; deferred: queued here for the worker). It returns the
// number of partitions created.
func MaintainPartitions(ctx context.Context, db queries.DBTX) (int, error) {
	var n int
	if err := db.QueryRow(ctx, "SELECT hmperf.maintain_partitions()").Scan(&n); err != nil {
		return 0, fmt.Errorf("maintain partitions: %w", err)
	}
	return n, nil
}

// maintained is one enabled row of hmperf.partition_maintenance whose
// table exists.
type maintained struct {
	Table       string
	Back, Ahead int
}

// MaintainPartitionsOneByOne is MaintainPartitions for a database the
// service is using: each table's months are created in a transaction of
// their own (a partition of a table with a foreign key to users locks
// users too, so the locks are held for one table at a time), and a table
// whose lock wait timed out is retried under p. The tables are
// independent, so the schema is consistent between them. It returns the
// number of partitions created, those of the tables done before an error
// included.
func MaintainPartitionsOneByOne(ctx context.Context, pool *pgxpool.Pool, p lockwait.Policy) (int, error) {
	rows, err := pool.Query(ctx, `
		SELECT parent_table, months_back, months_ahead FROM hmperf.partition_maintenance
		 WHERE enabled AND to_regclass(parent_table) IS NOT NULL
		 ORDER BY parent_table`)
	if err != nil {
		return 0, fmt.Errorf("maintain partitions: read hmperf.partition_maintenance: %w", err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowToStructByPos[maintained])
	if err != nil {
		return 0, fmt.Errorf("maintain partitions: read hmperf.partition_maintenance: %w", err)
	}
	total := 0
	for _, m := range tables {
		n, err := createMonths(ctx, pool, p, m)
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

// createMonths creates one table's missing months in one transaction.
func createMonths(ctx context.Context, pool *pgxpool.Pool, p lockwait.Policy, m maintained) (int, error) {
	var n int
	err := p.InTx(ctx, "create the monthly partitions of "+m.Table, pool, func(ctx context.Context, tx pgx.Tx) error {
		return tx.QueryRow(ctx, "SELECT hmperf.create_monthly_partitions(to_regclass($1), $2, $3)", m.Table, m.Back, m.Ahead).Scan(&n)
	})
	if err != nil && !errors.As(err, new(*lockwait.ExhaustedError)) {
		err = fmt.Errorf("maintain partitions of %s: %w", m.Table, err)
	}
	return n, err
}

// Perf is one row of the index_creation_performance view.
type Perf struct {
	ID              int64     `json:"id"`
	Table           string    `json:"table_name"`
	Index           string    `json:"index_name"`
	Method          string    `json:"method"`
	Strategy        string    `json:"strategy"`
	Status          string    `json:"status"`
	Attempts        int       `json:"attempts"`
	ScheduledAt     time.Time `json:"scheduled_at"`
	StartedAt       time.Time `json:"started_at"`
	FinishedAt      time.Time `json:"finished_at"`
	DurationSeconds *float64  `json:"duration_seconds"`
	SizeBytes       *int64    `json:"index_size_bytes"`
	Error           string    `json:"error,omitempty"`
}

const perfColumns = `id, table_name, index_name, method, strategy, status, attempts, scheduled_at,
	coalesce(started_at, 'epoch'), coalesce(finished_at, 'epoch'), duration_seconds, index_size_bytes, coalesce(error, '')`

// Performance reads index_creation_performance (build duration and size of
// every job). The view survives a malformed queued name: it resolves names
// with safe_regclass, which answers NULL where to_regclass would raise.
func Performance(ctx context.Context, db queries.DBTX) ([]Perf, error) {
	out, err := readPerf(ctx, db, "index_creation_performance")
	if err != nil {
		return nil, fmt.Errorf("read index_creation_performance: %w", err)
	}
	return out, nil
}

func readPerf(ctx context.Context, db queries.DBTX, from string) ([]Perf, error) {
	rows, err := db.Query(ctx, "SELECT "+perfColumns+" FROM "+from+" ORDER BY id")
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Perf, error) {
		var p Perf
		err := row.Scan(&p.ID, &p.Table, &p.Index, &p.Method, &p.Strategy, &p.Status, &p.Attempts, &p.ScheduledAt,
			&p.StartedAt, &p.FinishedAt, &p.DurationSeconds, &p.SizeBytes, &p.Error)
		p.StartedAt, p.FinishedAt = zeroEpoch(p.StartedAt), zeroEpoch(p.FinishedAt)
		return p, err
	})
}
