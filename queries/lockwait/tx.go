package lockwait

import (
	"context"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Beginner starts a transaction: a pool or a connection.
type Beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// InTx runs fn in a transaction of its own for each attempt, under p:
// committed when fn succeeds, rolled back when it fails, so an attempt
// whose lock wait timed out leaves nothing behind. When db is a pool, the
// blockers are read on another of its connections while fn waits (a single
// connection cannot be read from while it waits, so then they are not).
func (p Policy) InTx(ctx context.Context, what string, db Beginner, fn func(context.Context, pgx.Tx) error) error {
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
