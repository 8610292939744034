package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/queries"
)

// StatusInterrupted is a run whose owner ended (hmperf quit, was killed or
// lost its connection) before it could record the end: stored so by the
// next run's sweep and by `migrate down --all` (migration 0034), and read so
// meanwhile from the missing ownership lock. Its figures are partial.
const StatusInterrupted = "interrupted"

// runLockClass is the first key of the advisory lock (class, run id) a
// running benchmark's owner holds for as long as it runs ("hmpb").
const runLockClass int32 = 0x686d7062

// serialKey is the second key of the advisory lock (runLockClass,
// serialKey) every Run holds while it measures, so two benchmarks never
// time each other's lock waits. Run ids start at 1: 0 is no run's.
const serialKey int32 = 0

// ownedBy is an SQL condition: the ownership lock of the run whose id is
// the SQL expression idExpr is held by a live session. pg_locks is public,
// so a read-only session can evaluate it. Run ids are below 2^31, the range
// of the lock's second key.
func ownedBy(idExpr string) string {
	return `EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
	   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
	   AND l.classid = ` + strconv.Itoa(int(runLockClass)) + ` AND l.objid::bigint = ` + idExpr + `)`
}

// statusColumn reads a run's status, with a run marked running but owned by
// no session read as interrupted (a run killed before 0034, or not swept
// yet).
var statusColumn = `CASE WHEN status = 'running' AND NOT ` + ownedBy("id") + ` THEN 'interrupted' ELSE status END`

// interruptedError is what an interrupted run's error column says.
const interruptedError = "interrupted: the hmperf that ran it ended before recording its end"

// markInterrupted stores every run that says running while no session owns
// it as interrupted, and returns their ids. On a schema before 0034 (whose
// CHECK refuses the status) or without hmperf's tables it stores nothing:
// readers derive the status there.
func markInterrupted(ctx context.Context, db queries.DBTX) ([]int64, error) {
	rows, err := db.Query(ctx, `UPDATE hmperf.benchmark_runs SET status = $1, error = coalesce(error, $2)
		 WHERE status = 'running' AND NOT `+ownedBy("id")+` RETURNING id`, StatusInterrupted, interruptedError)
	var ids []int64
	if err == nil {
		ids, err = pgx.CollectRows(rows, pgx.RowTo[int64])
	}
	switch k := queries.Classify(err); {
	case k == queries.KindCheck || k == queries.KindUndefined:
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("bench: mark interrupted runs: %w", err)
	}
	return ids, nil
}

// ownRun reserves the id of a new run and takes its ownership lock before
// the run's row exists, so no reader ever sees the row unowned while its
// owner lives. The lock is held by a transaction of its own (on a pool, a
// connection of its own) until release. With serialize, the same
// transaction first waits its turn behind any other benchmark (waitTurn).
func ownRun(ctx context.Context, db queries.DBTX, serialize *turn) (id int64, release func(), err error) {
	own, err := db.Begin(ctx)
	if err != nil {
		return 0, nil, fmt.Errorf("bench: begin the run's ownership: %w", err)
	}
	release = func() { queries.Rollback(own) }
	if serialize != nil {
		if err := serialize.wait(ctx, own); err != nil {
			release()
			return 0, nil, err
		}
	}
	err = own.QueryRow(ctx, "SELECT nextval(pg_get_serial_sequence('hmperf.benchmark_runs', 'id'))").Scan(&id)
	if err == nil && id >= 1<<31 {
		err = fmt.Errorf("run id %d is past the lock's key range", id)
	}
	if err == nil {
		_, err = own.Exec(ctx, "SELECT pg_advisory_xact_lock($1::int, $2::int)", runLockClass, int32(id))
	}
	if err != nil {
		release()
		return 0, nil, fmt.Errorf("bench: own the new run: %w", err)
	}
	return id, release, nil
}

// turn is how a run waits for another benchmark to finish: for Budget
// (negative: not at all), saying once on Log who it waits for.
type turn struct {
	Budget time.Duration
	Log    io.Writer
	// Poll is how often the lock is tried again; 0 means 200 ms.
	Poll time.Duration
}

// ErrBusy is returned, wrapped with who holds it, when another benchmark
// still runs after the wait's budget.
var ErrBusy = errors.New("another benchmark is running")

// wait takes the serializing lock in tx, trying again every Poll until the
// budget is spent. Benchmarks run one at a time: two at once would share
// the server and wait on each other's locks inside their clocks.
func (t *turn) wait(ctx context.Context, tx pgx.Tx) error {
	poll := t.Poll
	if poll <= 0 {
		poll = 200 * time.Millisecond
	}
	start, told := time.Now(), false
	for {
		var got bool
		if err := tx.QueryRow(ctx, "SELECT pg_try_advisory_xact_lock($1::int, $2::int)", runLockClass, serialKey).Scan(&got); err != nil {
			return fmt.Errorf("bench: wait for other benchmarks: %w", err)
		}
		if got {
			if told && t.Log != nil {
				fmt.Fprintf(t.Log, "hmperf bench: the other benchmark ended after %s; starting\n", time.Since(start).Round(time.Millisecond))
			}
			return nil
		}
		holder := holderOf(ctx, tx)
		if t.Budget < 0 || time.Since(start) >= t.Budget {
			return fmt.Errorf("bench: %w: %s; waited %s (--lock-wait); run this one again when it ends",
				ErrBusy, holder, time.Since(start).Round(time.Second))
		}
		if !told && t.Log != nil {
			fmt.Fprintf(t.Log, "hmperf bench: waiting for %s to finish (benchmarks run one at a time, so no wait on each other is timed; up to --lock-wait %s)\n",
				holder, t.Budget)
			told = true
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(poll):
		}
	}
}

// holderOf names the session that holds the serializing lock: its run id,
// backend pid and application_name, as far as the role may read them.
func holderOf(ctx context.Context, tx pgx.Tx) string {
	var pid int32
	var app string
	var run *int64
	err := tx.QueryRow(ctx, `
		SELECT l.pid, coalesce(a.application_name, ''),
		       (SELECT o.objid::bigint FROM pg_locks o
		         WHERE o.pid = l.pid AND o.locktype = 'advisory' AND o.granted AND o.objsubid = 2
		           AND o.classid = l.classid AND o.objid <> l.objid AND o.database = l.database
		         ORDER BY o.objid DESC LIMIT 1)
		  FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
		 WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
		   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
		   AND l.classid::bigint = $1 AND l.objid::bigint = $2
		 LIMIT 1`, int64(runLockClass), int64(serialKey)).Scan(&pid, &app, &run)
	if err != nil {
		return "another benchmark"
	}
	who := "benchmark"
	if run != nil {
		who += " run " + strconv.FormatInt(*run, 10)
	}
	who += " (pid " + strconv.Itoa(int(pid))
	if app != "" {
		who += ", " + app
	}
	return who + ")"
}
