package indexq

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"hmperf/queries"
	"hmperf/queries/lockwait"
)

// DefaultBackoff is the wait before the first retry; each further retry
// waits twice as long as the one before.
const DefaultBackoff = 10 * time.Second

// Worker builds queued indexes. The zero Backoff means DefaultBackoff.
type Worker struct {
	Pool    *pgxpool.Pool
	ID      string        // recorded in deferred_index_creation.worker
	Backoff time.Duration // wait before the first retry
	// Lock is how a build whose lock wait timed out (lock_timeout) is
	// retried before the job counts as failed for this attempt.
	Lock lockwait.Policy
}

// Outcome is what happened to one claimed job.
type Outcome struct {
	JobID   int64  `json:"job_id"`
	Index   string `json:"index_name"`
	Status  string `json:"status"` // done, failed, pending (will be retried), postponed or busy
	Attempt int    `json:"attempt"`
	Error   string `json:"error,omitempty"`
}

// Summary is what one Process call did.
type Summary struct {
	Outcomes  []Outcome `json:"outcomes"`
	Built     int       `json:"built"`
	Failed    int       `json:"failed"`
	Retried   int       `json:"retried"`
	Postponed int       `json:"postponed"`
	Busy      int       `json:"busy"`
}

func (s *Summary) add(o Outcome) {
	s.Outcomes = append(s.Outcomes, o)
	switch o.Status {
	case Done:
		s.Built++
	case Failed:
		s.Failed++
	case Postponed:
		s.Postponed++
	case Busy:
		s.Busy++
	default:
		s.Retried++
	}
}

// DefaultWorkerID names a worker after its host and process.
func DefaultWorkerID() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s:%d", host, os.Getpid())
}

// Process runs a worker with the default backoff until the queue has no
// pending job left, limit jobs have been claimed (limit <= 0: no limit) or
// ctx is cancelled.
func Process(ctx context.Context, pool *pgxpool.Pool, workerID string, limit int) (Summary, error) {
	w := Worker{Pool: pool, ID: workerID}
	return w.Process(ctx, limit)
}

// Process claims and builds jobs until no job is due, limit jobs have been
// claimed (limit <= 0: no limit) or ctx is cancelled. A job this call put
// back for a retry counts as not finished: Process sleeps until it is due
// and tries again, so it returns with each of its jobs done or failed. Jobs
// due later for other reasons (another worker's retry, a deferred job below
// its size threshold) are left for a later run.
func (w *Worker) Process(ctx context.Context, limit int) (Summary, error) {
	var sum Summary
	var retrying []int64
	if _, err := Reclaim(ctx, w.Pool, reclaimGrace); err != nil {
		return sum, err
	}
	for limit <= 0 || len(sum.Outcomes) < limit {
		job, ok, err := w.claim(ctx)
		if err != nil {
			return sum, err
		}
		if !ok {
			wait, more, err := w.untilNextDue(ctx, retrying)
			if err != nil || !more {
				return sum, err
			}
			if err := sleep(ctx, wait); err != nil {
				return sum, err
			}
			continue
		}
		o, err := w.run(ctx, job)
		if err != nil {
			return sum, err
		}
		if o.Status == Pending || o.Status == Busy {
			retrying = append(retrying, o.JobID)
		}
		sum.add(o)
	}
	return sum, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// claim takes the oldest due pending job in one autocommit statement (a
// short transaction): rows another worker holds are skipped, not waited for,
// and so are jobs on a table that already has a build running (see
// lockTable).
func (w *Worker) claim(ctx context.Context) (Job, bool, error) {
	rows, err := w.Pool.Query(ctx, `
		WITH next AS (
		    SELECT id FROM deferred_index_creation
		     WHERE status = 'pending' AND coalesce(next_attempt_at, scheduled_at) <= now()
		       AND NOT EXISTS (SELECT 1 FROM deferred_index_creation r
		                        WHERE r.status = 'running' AND r.table_name = deferred_index_creation.table_name)
		     ORDER BY coalesce(next_attempt_at, scheduled_at), id
		     LIMIT 1
		       FOR UPDATE SKIP LOCKED)
		, claimed AS (
		UPDATE deferred_index_creation d
		   SET status = 'running', attempts = d.attempts + 1, worker = $1, started_at = clock_timestamp(), finished_at = NULL
		  FROM next WHERE d.id = next.id
		RETURNING d.*)
		SELECT `+jobColumns+` FROM claimed`, w.ID)
	if err != nil {
		return Job{}, false, fmt.Errorf("claim an index job: %w", err)
	}
	jobs, err := pgx.CollectRows(rows, scanJob)
	if err != nil || len(jobs) == 0 {
		return Job{}, false, err
	}
	return jobs[0], true, nil
}

// untilNextDue reports how long until the next of the given jobs still
// pending is due, and whether there is one at all. It waits at most a second
// at a time, so a job queued meanwhile is picked up promptly.
func (w *Worker) untilNextDue(ctx context.Context, ids []int64) (time.Duration, bool, error) {
	var secs *float64
	err := w.Pool.QueryRow(ctx, `
		SELECT extract(epoch FROM min(next_attempt_at) - clock_timestamp())::float8
		  FROM deferred_index_creation WHERE status = 'pending' AND id = ANY($1)`, ids).Scan(&secs)
	if err != nil {
		return 0, false, fmt.Errorf("read the index queue: %w", err)
	}
	if secs == nil {
		return 0, false, nil
	}
	due := time.Duration(*secs * float64(time.Second))
	return min(max(due, 50*time.Millisecond), time.Second), true, nil
}

// run validates and builds one claimed job and records the outcome. It
// returns an error only when the queue itself cannot be written.
func (w *Worker) run(ctx context.Context, j Job) (Outcome, error) {
	o := Outcome{JobID: j.ID, Index: j.Index, Attempt: j.Attempts}
	if err := checkNames(j); err != nil {
		return w.finish(o, j, Failed, err)
	}
	if err := checkCatalog(ctx, w.Pool, j); err != nil {
		if ctx.Err() != nil {
			return w.release(o, j, ctx.Err(), 0)
		}
		return w.finish(o, j, Failed, err)
	}
	if small, err := belowThreshold(ctx, w.Pool, j); err != nil || small {
		if err == nil {
			err = errPostponed
		}
		return w.release(o, j, err, postponeFor)
	}
	size, err := w.build(ctx, j)
	switch {
	case err == nil:
		return w.done(o, j, size)
	case errors.Is(err, errBusy):
		return w.release(o, j, err, busyRetry)
	case ctx.Err() != nil:
		return w.release(o, j, err, 0)
	case j.Attempts < j.MaxAttempts:
		return w.retry(o, j, err)
	default:
		return w.finish(o, j, Failed, err)
	}
}

// build creates the index with CREATE INDEX CONCURRENTLY on a connection of
// its own, in autocommit mode (never inside a transaction, where PostgreSQL
// refuses it). A valid index of that name already there counts as built; an
// INVALID one (a crashed earlier build) is dropped first. After a failure
// the INVALID leftover is dropped, so a failed job leaves nothing behind.
func (w *Worker) build(ctx context.Context, j Job) (int64, error) {
	conn, err := w.Pool.Acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Release()
	unlock, err := lockTable(ctx, conn, j.Table)
	if err != nil {
		return 0, err
	}
	defer unlock()
	what := fmt.Sprintf("build index %s on %s", j.Index, j.Table)
	if err := w.Lock.OnConn(ctx, what, w.Pool, conn, func(ctx context.Context) error { return w.create(ctx, conn, j) }); err != nil {
		return 0, err
	}
	var size int64
	err = conn.QueryRow(ctx, "SELECT pg_relation_size($1::regclass)", pgx.Identifier{j.Index}.Sanitize()).Scan(&size)
	return size, err
}

// create builds j's index unless a valid one is there, dropping an INVALID
// leftover first and after a failure, so that a build whose lock wait
// timed out leaves nothing behind and can simply run again.
func (w *Worker) create(ctx context.Context, conn *pgxpool.Conn, j Job) error {
	valid, exists, err := indexState(ctx, conn, j.Index)
	if err != nil || (exists && valid) {
		return err
	}
	if exists {
		if err := dropIndex(ctx, conn, j.Index); err != nil {
			return err
		}
	}
	if _, err := conn.Exec(ctx, createSQL(j)); err != nil {
		w.cleanupInvalid(conn, j.Index)
		return err
	}
	return nil
}

// reclaimGrace covers the short gap between claiming a job and taking its
// table's advisory lock, when a live worker holds no lock yet.
const reclaimGrace = time.Minute

// Reclaim puts back to pending the running jobs whose worker is gone: older
// than grace and with nobody holding their table's build lock (a session
// advisory lock dies with its session, so a crashed or killed worker leaves
// none). Without this such a job would stay running forever and block its
// table. It returns how many jobs it put back; an INVALID index the dead
// build left is dropped when the job runs again.
func Reclaim(ctx context.Context, db queries.DBTX, grace time.Duration) (int, error) {
	tag, err := db.Exec(ctx, `
		UPDATE deferred_index_creation d
		   SET status = 'pending', next_attempt_at = now(),
		       error = 'reclaimed: worker ' || coalesce(d.worker, '?') || ' vanished during attempt ' || d.attempts
		 WHERE d.status = 'running' AND d.started_at < now() - make_interval(secs => $1)
		   AND NOT EXISTS (SELECT 1 FROM pg_locks l
		                    WHERE l.locktype = 'advisory' AND l.objsubid = 2 AND l.granted
		                      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
		                      AND l.classid = hashtext('hmperf.indexq')::oid
		                      AND l.objid = hashtext(d.table_name)::oid)`, grace.Seconds())
	if err != nil {
		return 0, fmt.Errorf("reclaim index jobs of vanished workers: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// busyRetry is how soon a job whose table was busy is looked at again.
const busyRetry = 250 * time.Millisecond

// errBusy marks a job whose table another worker is indexing right now.
var errBusy = errors.New("another build is running on this table")

// lockTable takes a session-level advisory lock on the table for the
// build, or fails with errBusy at once. Two CREATE INDEX CONCURRENTLY on
// one table deadlock (each waits for the other's transaction in its
// wait-for-old-snapshots phase; PostgreSQL aborts one with 40P01), so
// builds on a table are serialised. The claim query already skips tables
// with a running job; the lock closes the race between two claims. It is
// taken with pg_try_advisory_lock in autocommit, so no transaction stays
// open for the concurrent build to wait for.
func lockTable(ctx context.Context, conn *pgxpool.Conn, table string) (func(), error) {
	var ok bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock(hashtext('hmperf.indexq'), hashtext($1))", table).Scan(&ok); err != nil {
		return nil, err
	}
	if !ok {
		return nil, errBusy
	}
	return func() {
		ctx, cancel := writeCtx()
		defer cancel()
		_, _ = conn.Exec(ctx, "SELECT pg_advisory_unlock(hashtext('hmperf.indexq'), hashtext($1))", table)
	}, nil
}

// indexState reports whether an index of that name exists in the current
// schema and whether it is valid.
func indexState(ctx context.Context, conn *pgxpool.Conn, name string) (valid, exists bool, err error) {
	err = conn.QueryRow(ctx, `
		SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		 WHERE c.relname = $1 AND c.relnamespace = current_schema()::regnamespace`, name).Scan(&valid)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, false, nil
	}
	return valid, err == nil, err
}

func dropIndex(ctx context.Context, conn *pgxpool.Conn, name string) error {
	_, err := conn.Exec(ctx, "DROP INDEX CONCURRENTLY IF EXISTS "+pgx.Identifier{name}.Sanitize())
	return err
}

// cleanupInvalid drops the INVALID index a failed or cancelled CREATE INDEX
// CONCURRENTLY leaves behind. It runs on its own context: the build's may be
// the reason it failed. A cancelled build closes its connection (that is how
// pgx interrupts a statement), so the drop then runs on a fresh one; it waits
// for the cancelled build's backend to end.
func (w *Worker) cleanupInvalid(conn *pgxpool.Conn, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if conn.Conn().IsClosed() {
		fresh, err := w.Pool.Acquire(ctx)
		if err != nil {
			return
		}
		defer fresh.Release()
		conn = fresh
	}
	if valid, exists, err := indexState(ctx, conn, name); err == nil && exists && !valid {
		_ = dropIndex(ctx, conn, name)
	}
}

// writeCtx bounds the bookkeeping writes, which must happen even when the
// worker's context was cancelled mid-build.
func writeCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 30*time.Second)
}

func (w *Worker) done(o Outcome, j Job, size int64) (Outcome, error) {
	ctx, cancel := writeCtx()
	defer cancel()
	_, err := w.Pool.Exec(ctx, `
		UPDATE deferred_index_creation
		   SET status = 'done', finished_at = clock_timestamp(), index_size_bytes = $2, error = NULL
		 WHERE id = $1`, j.ID, size)
	o.Status = Done
	return o, wrapWrite(err, j)
}

// finish marks the job failed for good, with the error.
func (w *Worker) finish(o Outcome, j Job, status string, cause error) (Outcome, error) {
	ctx, cancel := writeCtx()
	defer cancel()
	_, err := w.Pool.Exec(ctx, `
		UPDATE deferred_index_creation SET status = $2, finished_at = clock_timestamp(), error = $3 WHERE id = $1`,
		j.ID, status, cause.Error())
	o.Status, o.Error = status, cause.Error()
	return o, wrapWrite(err, j)
}

// retry puts the job back in the queue, due after Backoff × 2^(attempts−1).
func (w *Worker) retry(o Outcome, j Job, cause error) (Outcome, error) {
	backoff := w.Backoff
	if backoff <= 0 {
		backoff = DefaultBackoff
	}
	delay := backoff << (j.Attempts - 1)
	ctx, cancel := writeCtx()
	defer cancel()
	_, err := w.Pool.Exec(ctx, `
		UPDATE deferred_index_creation
		   SET status = 'pending', error = $2, next_attempt_at = clock_timestamp() + make_interval(secs => $3)
		 WHERE id = $1`, j.ID, cause.Error(), delay.Seconds())
	o.Status, o.Error = Pending, cause.Error()
	return o, wrapWrite(err, j)
}

// postponeFor is how long a deferred job below its size threshold waits
// before it is looked at again (as auto_process_deferred_indexes does).
const postponeFor = 15 * time.Minute

// errPostponed marks a deferred job whose partition is still below the
// strategy's size threshold.
var errPostponed = errors.New("postponed: the partition is below the strategy's size threshold")

// release gives a job back to the queue without counting the attempt, due
// after delay: when the worker was interrupted (not the job's fault; the
// cause is returned) or when a deferred job is not big enough yet (the
// outcome says "postponed").
func (w *Worker) release(o Outcome, j Job, cause error, delay time.Duration) (Outcome, error) {
	ctx, cancel := writeCtx()
	defer cancel()
	_, err := w.Pool.Exec(ctx, `
		UPDATE deferred_index_creation
		   SET status = 'pending', attempts = greatest(attempts - 1, 0), worker = NULL, started_at = NULL,
		       next_attempt_at = clock_timestamp() + make_interval(secs => $2)
		 WHERE id = $1`, j.ID, delay.Seconds())
	if err != nil {
		return o, wrapWrite(err, j)
	}
	switch {
	case errors.Is(cause, errPostponed):
		o.Status, o.Error = Postponed, cause.Error()
		return o, nil
	case errors.Is(cause, errBusy):
		o.Status, o.Error = Busy, cause.Error()
		return o, nil
	}
	return o, cause
}

// belowThreshold reports whether a deferred job's table is still smaller
// than the size_threshold_bytes of its parent's strategy for that index
// kind. Jobs of other strategies, and tables without a strategy, never are.
func belowThreshold(ctx context.Context, pool *pgxpool.Pool, j Job) (bool, error) {
	if j.Strategy != "deferred" {
		return false, nil
	}
	var small bool
	err := pool.QueryRow(ctx, `
		SELECT coalesce(pg_total_relation_size(c.oid) < (
		         SELECT st.size_threshold_bytes FROM index_creation_strategy st
		           JOIN pg_inherits i ON i.inhrelid = c.oid
		           JOIN pg_class p ON p.oid = i.inhparent
		          WHERE st.index_kind = $2 AND st.table_name IN (p.relname::text, i.inhparent::regclass::text)
		          LIMIT 1), false)
		  FROM pg_class c WHERE c.relname = $1 AND c.relnamespace = current_schema()::regnamespace`,
		j.Table, j.Method).Scan(&small)
	if err != nil {
		return false, fmt.Errorf("read the size threshold of %s: %w", j.Table, err)
	}
	return small, nil
}

func wrapWrite(err error, j Job) error {
	if err != nil {
		return fmt.Errorf("record the outcome of index job %d (%s): %w", j.ID, j.Index, err)
	}
	return nil
}
