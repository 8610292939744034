package migrations

import (
	"context"
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
// retry line (and the final error) names the session that holds it: its
// pid, application_name and how long it has been at its statement.
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
	if err != nil {
		return err
	}
	g.locked = true
	return nil
}
