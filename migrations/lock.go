package migrations

import (
	"context"
	"errors"
	"fmt"
	"time"

	"hmperf/queries/lockwait"
)

// The migration lock is a session advisory lock that every change of
// hmperf's schema holds from its first step until it ends (migrate up,
// down, goto, force, adopt, down --all, and the dashboard's migrate keys),
// so two of them never interleave their steps. Its key is the pair
// (LockClass, LockObject), as pg_locks shows it: classid 1752001895
// ("hmmg"), objid 1, objsubid 2.
const (
	LockClass  int32 = 0x686d6d67
	LockObject int32 = 1
)

// takeLock takes the migration lock on the step connection, once. A held
// lock is waited for under lock_timeout and retried under the lock-wait
// policy like any step, so the wait is bounded by --lock-wait and every
// retry line (and the final error) names the session that holds it; the
// final error adds since when that session has been connected.
func (g *Migrator) takeLock(ctx context.Context) error {
	if g.locked {
		return nil
	}
	watch, err := g.watch(ctx)
	if err != nil {
		return err
	}
	err = g.lock.Run(ctx, "take hmperf's migration lock (another schema change holds it)", watch, func(ctx context.Context) error {
		_, err := g.conn.Exec(ctx, "SELECT pg_advisory_lock($1::int, $2::int)", LockClass, LockObject)
		return err
	})
	if errors.As(err, new(*lockwait.ExhaustedError)) {
		return fmt.Errorf("%w%s", err, g.lockHolder(ctx))
	}
	if err != nil {
		return err
	}
	g.locked = true
	return nil
}

// holderSQL reads the session holding the migration lock in this database.
const holderSQL = `
SELECT a.pid, coalesce(a.application_name, ''), a.backend_start
  FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
 WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
   AND l.classid = $1::int::oid AND l.objid = $2::int::oid
   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`

// lockHolder words who holds the migration lock and since when it has
// been connected ("" when it cannot be read: the lock was released, or
// pg_stat_activity hides the session from this role).
func (g *Migrator) lockHolder(ctx context.Context) string {
	var pid int32
	var app string
	var since time.Time
	if err := g.watcher.QueryRow(context.WithoutCancel(ctx), holderSQL, LockClass, LockObject).Scan(&pid, &app, &since); err != nil {
		return ""
	}
	return fmt.Sprintf(" (the migration lock's holder, pid %d, application %q, connected since %s)", pid, app, since.UTC().Format("2006-01-02 15:04:05 UTC"))
}
