package migrations

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/golang-migrate/migrate/v4"
	"github.com/golang-migrate/migrate/v4/database"
	"github.com/jackc/pgx/v5"

	"hmperf/queries/lockwait"
)

// nilVersion is the version of a database with nothing applied.
const nilVersion = -1

// SetLockWait sets how a migration step whose lock wait timed out is
// retried (the budget, and where the retry lines go). The zero Policy
// retries for lockwait.DefaultBudget, silently.
func (g *Migrator) SetLockWait(p lockwait.Policy) { g.lock = p }

// version is the applied version, nilVersion when none; a dirty database
// is golang-migrate's ErrDirty, which no step may run on.
func (g *Migrator) version() (int, error) {
	v, dirty, err := g.m.Version()
	switch {
	case errors.Is(err, migrate.ErrNilVersion):
		return nilVersion, nil
	case err != nil:
		return 0, err
	case dirty:
		return 0, migrate.ErrDirty{Version: int(v)}
	}
	return int(v), nil
}

// next is the first migration above cur.
func (g *Migrator) next(cur int) (Migration, bool) {
	for _, f := range g.files {
		if int(f.Version) > cur {
			return f, true
		}
	}
	return Migration{}, false
}

// fileAt is the migration with version v.
func (g *Migrator) fileAt(v int) Migration {
	for _, f := range g.files {
		if int(f.Version) == v {
			return f
		}
	}
	return Migration{Version: uint(v)}
}

// step applies (dir +1) or reverts (dir -1) the one migration next to
// version from. Each file runs in one transaction (every file is a single
// BEGIN … COMMIT and none builds an index CONCURRENTLY), so a lock timeout
// rolls the whole file back and the retry repeats only this step.
func (g *Migrator) step(ctx context.Context, from, dir int) error {
	what := "revert migration " + fileName4(g.fileAt(from))
	if dir > 0 {
		f, _ := g.next(from)
		what = "apply migration " + fileName4(f)
	}
	watch, err := g.watch(ctx, g.pid.Load)
	if err != nil {
		return err
	}
	return g.lock.Run(ctx, what, watch, func(ctx context.Context) error { return g.stepOnce(ctx, from, dir) })
}

func fileName4(f Migration) string { return fmt.Sprintf("%04d_%s", f.Version, f.Name) }

// stepOnce runs one golang-migrate step. After a lock timeout it leaves the
// version table as clean as the schema: the step's error then says only
// what timed out (not the whole file), so it fits on one line.
func (g *Migrator) stepOnce(ctx context.Context, from, dir int) error {
	err := g.m.Steps(dir)
	if err == nil {
		return nil
	}
	cause := dbCause(err)
	if !lockwait.IsLockTimeout(cause) {
		return g.afterChange(err)
	}
	done, cleanErr := g.undoDirtyMark(ctx, from, ranFile(err))
	switch {
	case cleanErr != nil:
		// Not wrapped: a version table left dirty must stop the retries.
		return fmt.Errorf("%v; then %v", cause, cleanErr)
	case done:
		return nil
	}
	return cause
}

// undoDirtyMark reconnects (the failed file left golang-migrate's session
// in an aborted transaction) and makes the version table say what the
// schema is. golang-migrate marks the target version dirty, runs the file,
// then marks it clean, each in a transaction of its own:
//   - the first mark timed out: it rolled back, the table is clean at from;
//   - the file timed out: its one transaction rolled back, so from again;
//   - the last mark timed out: the file committed, the step is done (true)
//     and the dirty version is the right one.
func (g *Migrator) undoDirtyMark(ctx context.Context, from int, fileRan bool) (done bool, err error) {
	_ = g.closeMigrate()
	if err := g.open(context.Background()); err != nil {
		return false, fmt.Errorf("reconnect after the lock timeout: %w", err)
	}
	v, dirty, err := g.versionRow(ctx)
	switch {
	case err != nil:
		return false, fmt.Errorf("read the version after the lock timeout: %w", err)
	case !dirty:
		return false, nil
	case fileRan:
		return false, g.force(ctx, from)
	}
	return true, g.force(ctx, v)
}

// versionRow reads golang-migrate's row on a connection of its own (its
// Version hides the dirty flag of the nil version a last down writes).
func (g *Migrator) versionRow(ctx context.Context) (v int, dirty bool, err error) {
	conn, err := pgx.ConnectConfig(ctx, g.cfg)
	if err != nil {
		return 0, false, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	err = conn.QueryRow(ctx, "SELECT version, dirty FROM hmperf.schema_migrations LIMIT 1").Scan(&v, &dirty)
	if errors.Is(err, pgx.ErrNoRows) {
		return nilVersion, false, nil
	}
	return v, dirty, err
}

// force records v clean, retried like a step: the version table is
// hmperf's, but a long reader of it (another hmperf's status) blocks the
// rewrite too. No watcher: the step's is still polling.
func (g *Migrator) force(ctx context.Context, v int) error {
	what := fmt.Sprintf("record version %d clean", v)
	return g.lock.Run(ctx, what, nil, func(context.Context) error { return dbCause(g.m.Force(v)) })
}

// dbCause is the driver's error inside golang-migrate's wrapper (which
// does not unwrap and carries the whole file), or err itself.
func dbCause(err error) error {
	de, ok := asDBError(err)
	if !ok || de.OrigErr == nil {
		return err
	}
	msg := de.Err
	if msg == "" {
		msg = de.OrigErr.Error()
	}
	return stepError{msg: msg, err: de.OrigErr}
}

// ranFile reports whether err came from running a migration file, as
// opposed to golang-migrate's lock or version bookkeeping.
func ranFile(err error) bool {
	de, ok := asDBError(err)
	return ok && strings.HasPrefix(de.Err, "migration failed")
}

// asDBError finds golang-migrate's wrapper in err: its pgx driver returns
// it by value from a file and by pointer from its version bookkeeping.
func asDBError(err error) (database.Error, bool) {
	var v database.Error
	if errors.As(err, &v) {
		return v, true
	}
	var p *database.Error
	if errors.As(err, &p) && p != nil {
		return *p, true
	}
	return database.Error{}, false
}

// stepError is a driver error worded by golang-migrate, without the file.
type stepError struct {
	msg string
	err error
}

func (e stepError) Error() string { return e.msg }
func (e stepError) Unwrap() error { return e.err }

// watch is a lockwait.Watch over the Migrator's side connection (opened on
// first use) for the backend pid returns.
func (g *Migrator) watch(ctx context.Context, pid func() uint32) (lockwait.Watch, error) {
	if g.watcher == nil || g.watcher.IsClosed() {
		c, err := pgx.ConnectConfig(ctx, g.cfg)
		if err != nil {
			return nil, fmt.Errorf("open the connection that names lock blockers: %w", err)
		}
		g.watcher = c
	}
	w := g.watcher
	return func(ctx context.Context) ([]lockwait.Blocker, error) {
		return lockwait.BlockersOf(w, pid())(ctx)
	}, nil
}

func (g *Migrator) closeWatcher() {
	if g.watcher != nil {
		_ = g.watcher.Close(context.Background())
		g.watcher = nil
	}
}
