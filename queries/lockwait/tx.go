package lockwait

import (
	"context"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"hmperf/queries"
)

// InTx runs fn in a transaction of its own for each attempt, under p:
// committed when fn succeeds, rolled back when it fails, so an attempt
// whose lock wait timed out leaves nothing behind. When db is a pool, the
// blockers are read on another of its connections while fn waits (a single
// connection cannot be read from while it waits, so then they are not).
func (p Policy) InTx(ctx context.Context, what string, db queries.DBTX, fn func(context.Context, pgx.Tx) error) error {
	var pid atomic.Uint32
	var watch Watch
	if pool, ok := db.(*pgxpool.Pool); ok {
		watch = poolWatch(pool, &pid)
	}
	return p.Run(ctx, what, watch, func(ctx context.Context) error {
		tx, err := db.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(context.WithoutCancel(ctx))
		pid.Store(tx.Conn().PgConn().PID())
		if err := fn(ctx, tx); err != nil {
			return err
		}
		return tx.Commit(ctx)
	})
}

// OnConn runs fn under p on conn, a connection of pool held by the caller
// (a statement that must not run in a transaction, such as CREATE INDEX
// CONCURRENTLY); another connection of pool reads the blockers.
func (p Policy) OnConn(ctx context.Context, what string, pool *pgxpool.Pool, conn *pgxpool.Conn, fn func(context.Context) error) error {
	var pid atomic.Uint32
	pid.Store(conn.Conn().PgConn().PID())
	return p.Run(ctx, what, poolWatch(pool, &pid), fn)
}

// poolWatch reads, on pool, the blockers of the backend pid holds (none
// while it is 0).
func poolWatch(pool *pgxpool.Pool, pid *atomic.Uint32) Watch {
	return func(ctx context.Context) ([]Blocker, error) {
		id := pid.Load()
		if st := pool.Stat(); id == 0 || (st.IdleConns() == 0 && st.TotalConns() >= st.MaxConns()) {
			// Nothing to watch, or no connection to watch from
			// without waiting for the one the step holds.
			return nil, nil
		}
		return BlockersOf(pool, id)(ctx)
	}
}

// blockersOfAppSQL reads the sessions that block any session of the
// reader's database labelled with its own application_name ("hmperf
// bench") waiting for a lock.
const blockersOfAppSQL = `
SELECT DISTINCT a.pid, coalesce(a.usename, ''), coalesce(a.application_name, ''), coalesce(a.state, ''),
       coalesce(extract(epoch FROM clock_timestamp() - coalesce(a.xact_start, a.query_start)), 0)::float8,
       coalesce(a.query, '')
  FROM pg_stat_activity w
 CROSS JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS b(pid)
  JOIN pg_stat_activity a ON a.pid = b.pid
 WHERE w.application_name = current_setting('application_name')
   AND w.datname = current_database()
   AND w.pid <> pg_backend_pid() AND w.wait_event_type = 'Lock'
 ORDER BY a.pid`

// AppWatch is a Watch for a step whose backend is not known to the caller
// (it runs inside code that opens its own transaction): it reads, on
// another connection of db, who blocks any session of this command
// (same application_name) that waits for a lock. It is nil unless db is a
// pool, the only kind that has another connection to read from.
func AppWatch(db any) Watch {
	pool, ok := db.(*pgxpool.Pool)
	if !ok {
		return nil
	}
	return func(ctx context.Context) ([]Blocker, error) {
		rows, err := pool.Query(ctx, blockersOfAppSQL)
		if err != nil {
			return nil, err
		}
		return scanBlockers(rows)
	}
}
