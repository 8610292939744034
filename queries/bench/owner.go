package bench

import (
	"context"
	"fmt"

	"hmperf/queries"
)

// StatusInterrupted is how a run reads whose status says "running" while no
// session owns it any more: hmperf quit or was killed before it could record
// the end. Its figures are partial, never final.
const StatusInterrupted = "interrupted"

// runLockClass is the first key of the advisory lock (class, run id) a
// running benchmark's owner holds for as long as it runs ("hmpb";
// statusColumn spells it in decimal).
const runLockClass int32 = 0x686d7062

// statusColumn reads a run's status, with a run marked running but owned by
// no session read as interrupted. It only reads (pg_locks is public), so it
// works on a read-only session too. Run ids are compared below 2^31, the
// range of the lock's second key.
const statusColumn = `CASE WHEN status = 'running' AND NOT EXISTS (
	SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
	   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
	   AND l.classid = 1752002658 AND l.objid::bigint = id)
	THEN 'interrupted' ELSE status END`

// ownRun reserves the id of a new run and takes its ownership lock before
// the run's row exists, so no reader ever sees the row unowned while its
// owner lives. The lock is held by a transaction of its own (on a pool, a
// connection of its own) until release.
func ownRun(ctx context.Context, db DB) (id int64, release func(), err error) {
	own, err := db.Begin(ctx)
	if err != nil {
		return 0, nil, fmt.Errorf("bench: begin the run's ownership: %w", err)
	}
	release = func() { queries.Rollback(own) }
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
