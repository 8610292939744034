package migrations

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"

	"github.com/jackc/pgx/v5"

	"hmperf/queries"
	"hmperf/queries/lockwait"
)

// nilVersion is the version of a database with nothing applied.
const nilVersion = -1

// SetLockWait sets how a migration step whose lock wait timed out is
// retried (the budget, and where the retry lines go). The zero Policy
// retries for lockwait.DefaultBudget, silently.
func (g *Migrator) SetLockWait(p lockwait.Policy) { g.lock = p }

// Up applies every pending migration. Nothing to do is not an error.
func (g *Migrator) Up() error { return g.UpContext(context.Background()) }

// UpContext is Up, one migration at a time (see step); a cancelled ctx
// (Ctrl-C) cancels the running statement and rolls its step back.
func (g *Migrator) UpContext(ctx context.Context) error {
	if err := g.prepare(ctx, true); err != nil {
		return err
	}
	for {
		cur, err := g.version(ctx)
		if err != nil {
			return err
		}
		if _, pending := g.next(cur); !pending {
			return nil
		}
		if err := g.step(ctx, cur, +1); err != nil {
			return err
		}
	}
}

// Down reverts the last n applied migrations. On an adopted database it
// never goes below BaseVersion: the base tables are the service's.
func (g *Migrator) Down(n int) error { return g.DownContext(context.Background(), n) }

// DownContext is Down, one migration at a time.
func (g *Migrator) DownContext(ctx context.Context, n int) error {
	if n <= 0 {
		return fmt.Errorf("down needs a positive number of steps, got %d", n)
	}
	if err := g.prepare(ctx, true); err != nil {
		return err
	}
	st, err := g.Status()
	if err != nil {
		return err
	}
	if applied := revertible(st); n > applied {
		if st.Adopted() {
			return fmt.Errorf("this database was adopted: only %d of hmperf's own migrations can be reverted (the base tables are the service's); `hmperf migrate down --all` removes everything hmperf added", applied)
		}
		return fmt.Errorf("down %d: only %d migration(s) are applied; nothing reverted", n, applied)
	}
	for i := 0; i < n; i++ {
		cur, err := g.version(ctx)
		if err != nil {
			return err
		}
		if err := g.step(ctx, cur, -1); err != nil {
			return err
		}
	}
	return nil
}

// revertible counts the applied migrations down may revert: on an adopted
// database only hmperf's own, above BaseVersion.
func revertible(st Status) int {
	n := 0
	for _, f := range st.Migrations {
		if f.Applied && (!st.Adopted() || f.Version > BaseVersion) {
			n++
		}
	}
	return n
}

// DownAll reverts every migration hmperf applied and then removes its
// version table, the adoption record and its schema, so the database is
// left as hmperf found it. On an adopted database the base migrations are
// not reverted: their tables are the service's.
func (g *Migrator) DownAll() error { return g.DownAllContext(context.Background()) }

// DownAllContext is DownAll, one migration at a time, then the bookkeeping
// in one short transaction. Every step commits with its version, so a
// DownAll stopped anywhere is finished by running it again.
func (g *Migrator) DownAllContext(ctx context.Context) error {
	if err := g.prepare(ctx, false); err != nil {
		return err
	}
	adopted, err := readAdoption(ctx, g.conn)
	if err != nil {
		return err
	}
	floor := nilVersion
	if adopted != nil {
		floor = int(BaseVersion)
	}
	if err := g.stepDownTo(ctx, floor); err != nil {
		return err
	}
	return g.removeBookkeeping(ctx, floor)
}

// stepDownTo reverts one migration after another while the version is
// above floor.
func (g *Migrator) stepDownTo(ctx context.Context, floor int) error {
	for {
		cur, err := g.version(ctx)
		if err != nil {
			return err
		}
		if cur <= floor {
			return nil
		}
		if err := g.step(ctx, cur, -1); err != nil {
			return err
		}
	}
}

// removeBookkeeping drops what hmperf keeps besides its migrations, in one
// transaction retried like a migration step, after checking that the
// version is still floor. The schema is dropped without CASCADE: anything
// left in it that hmperf did not put there makes this fail rather than
// vanish.
func (g *Migrator) removeBookkeeping(ctx context.Context, floor int) error {
	watch, err := g.watch(ctx)
	if err != nil {
		return err
	}
	return g.lock.Run(ctx, "remove hmperf's schema", watch, func(ctx context.Context) error {
		return g.inStep(ctx, func(ctx context.Context, tx pgx.Tx) error {
			if err := claimVersion(ctx, tx, floor); err != nil {
				return err
			}
			return dropBookkeeping(ctx, tx)
		})
	})
}

func dropBookkeeping(ctx context.Context, tx pgx.Tx) error {
	for _, stmt := range []string{
		"DROP TABLE IF EXISTS hmperf.schema_migrations",
		"DROP TABLE IF EXISTS hmperf.adoption",
		"DROP SCHEMA IF EXISTS hmperf",
	} {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("remove hmperf's schema: %s: %w", stmt, err)
		}
	}
	return nil
}

// Goto migrates up or down to version v; on an adopted database not below
// BaseVersion.
func (g *Migrator) Goto(v uint) error { return g.GotoContext(context.Background(), v) }

// GotoContext is Goto, one migration at a time.
func (g *Migrator) GotoContext(ctx context.Context, v uint) error {
	if !g.known(v) {
		return fmt.Errorf("no migration with version %d", v)
	}
	if err := g.prepare(ctx, true); err != nil {
		return err
	}
	if v < BaseVersion {
		st, err := g.Status()
		if err != nil {
			return err
		}
		if st.Adopted() {
			return fmt.Errorf("this database was adopted: hmperf never goes below version %d (the base tables are the service's)", BaseVersion)
		}
	}
	for {
		cur, err := g.version(ctx)
		if err != nil {
			return err
		}
		switch {
		case cur == int(v):
			return nil
		case cur < int(v):
			err = g.step(ctx, cur, +1)
		default:
			err = g.step(ctx, cur, -1)
		}
		if err != nil {
			return err
		}
	}
}

// Force sets the recorded version without running anything and clears the
// dirty flag; -1 records that nothing is applied.
func (g *Migrator) Force(v int) error { return g.ForceContext(context.Background(), v) }

// ForceContext is Force under the migration lock, retried like a step.
func (g *Migrator) ForceContext(ctx context.Context, v int) error {
	if v != nilVersion && (v < 0 || !g.known(uint(v))) {
		return fmt.Errorf("no migration with version %d", v)
	}
	if err := g.prepare(ctx, true); err != nil {
		return err
	}
	what := fmt.Sprintf("record version %d", v)
	return g.lock.Run(ctx, what, nil, func(ctx context.Context) error {
		return g.inStep(ctx, func(ctx context.Context, tx pgx.Tx) error {
			if _, _, err := lockVersionTable(ctx, tx); err != nil {
				return err
			}
			return writeVersion(ctx, tx, v)
		})
	})
}

func (g *Migrator) known(v uint) bool {
	_, ok := g.paths[v]
	return ok
}

// prepare makes the Migrator ready for a change: connected, holding the
// migration lock, with a version table. refuse refuses a database another
// tool manages (a DownAll that already removed hmperf's schema from an
// adopted database finds nothing left to do instead).
func (g *Migrator) prepare(ctx context.Context, refuse bool) error {
	if refuse {
		if err := g.refuseForeign(ctx); err != nil {
			return err
		}
	}
	if g.conn == nil || g.conn.IsClosed() {
		conn, err := pgx.ConnectConfig(ctx, g.cfg)
		if err != nil {
			return err
		}
		g.conn, g.locked, g.checked = conn, false, false
	}
	if !g.checked {
		// A killed hmperf's backend would otherwise wait on in the lock
		// queue, with every later statement of the service's behind it,
		// until it got its lock and found no client: the server looks for
		// the client every second (PostgreSQL 14+; older servers refuse
		// the setting, which changes nothing else).
		_, _ = g.conn.Exec(ctx, "SET client_connection_check_interval = '1s'")
		g.checked = true
	}
	if err := g.takeLock(ctx); err != nil {
		return err
	}
	if !refuse {
		return nil
	}
	return g.lock.Run(ctx, "create hmperf's version table", nil, func(ctx context.Context) error {
		return g.inStep(ctx, createVersionTable)
	})
}

// createVersionTable creates hmperf's schema and its version table, in the
// layout golang-migrate's pgx driver used (older hmperf reads it).
func createVersionTable(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+Schema); err != nil {
		return fmt.Errorf("create schema %s: %w", Schema, err)
	}
	_, err := tx.Exec(ctx, "CREATE TABLE IF NOT EXISTS hmperf.schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)")
	if err != nil {
		return fmt.Errorf("create hmperf.schema_migrations: %w", err)
	}
	return nil
}

// version is the applied version, nilVersion when none; a dirty database
// is a DirtyError, which no step may run on.
func (g *Migrator) version(ctx context.Context) (int, error) {
	v, dirty, err := readVersionRow(ctx, g.conn)
	switch {
	case err != nil:
		return 0, err
	case dirty:
		return 0, g.dirtyError(ctx)
	}
	return v, nil
}

// readVersionRow reads the recorded version; nilVersion when the table
// is empty or absent.
func readVersionRow(ctx context.Context, db queries.DBTX) (v int, dirty bool, err error) {
	if ok, err := relationExists(ctx, db, versionTable); err != nil || !ok {
		return nilVersion, false, err
	}
	return selectVersionRow(ctx, db)
}

// selectVersionRow reads the version table, which must exist.
func selectVersionRow(ctx context.Context, db queries.DBTX) (v int, dirty bool, err error) {
	var v64 int64
	err = db.QueryRow(ctx, "SELECT version, dirty FROM hmperf.schema_migrations LIMIT 1").Scan(&v64, &dirty)
	if errors.Is(err, pgx.ErrNoRows) {
		return nilVersion, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("read hmperf.schema_migrations: %w", err)
	}
	return int(v64), dirty, nil
}

// DirtyError is a change refused because the version table is dirty (left
// so by an older hmperf or another tool); Next says how to recover.
type DirtyError struct {
	Version int
	Summary string
	Next    string
}

func (e *DirtyError) Error() string {
	return fmt.Sprintf("the schema is %s; %s", e.Summary, e.Next)
}

func (g *Migrator) dirtyError(ctx context.Context) error {
	st, err := ReadStatus(ctx, g.conn, g.src)
	if err != nil {
		return err
	}
	return &DirtyError{Version: int(st.Version), Summary: st.Summary, Next: st.Next}
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

// prev is the version below v, nilVersion for the first.
func (g *Migrator) prev(v int) int {
	p := nilVersion
	for _, f := range g.files {
		if int(f.Version) < v {
			p = int(f.Version)
		}
	}
	return p
}

// step applies (dir +1) or reverts (dir -1) the one migration next to
// version from, retried under the lock-wait policy. Each attempt is one
// transaction (see runStep), so a lock timeout, an error, Ctrl-C or a kill
// rolls back the file and its version change together.
func (g *Migrator) step(ctx context.Context, from, dir int) error {
	to, path, what, err := g.plan(from, dir)
	if err != nil {
		return err
	}
	stmts, err := g.statements(path)
	if err != nil {
		return err
	}
	watch, err := g.watch(ctx)
	if err != nil {
		return err
	}
	return g.lock.Run(ctx, what, watch, func(ctx context.Context) error {
		return g.inStep(ctx, func(ctx context.Context, tx pgx.Tx) error {
			return runStep(ctx, tx, path, stmts, from, to)
		})
	})
}

// plan names the step from version from in direction dir: the version it
// records, its file, and how the log calls it.
func (g *Migrator) plan(from, dir int) (to int, path, what string, err error) {
	if dir > 0 {
		f, ok := g.next(from)
		if !ok {
			return 0, "", "", fmt.Errorf("no migration above version %d", from)
		}
		to, path = int(f.Version), g.paths[f.Version].up
		return to, path, "apply migration " + trimSQL(path), nil
	}
	pair, ok := g.paths[uint(from)]
	if !ok || from < 0 {
		return 0, "", "", fmt.Errorf("no migration with version %d to revert", from)
	}
	if pair.down == "" {
		return 0, "", "", fmt.Errorf("migration %s has no down file", trimSQL(pair.up))
	}
	return g.prev(from), pair.down, "revert migration " + trimSQL(pair.down), nil
}

// inStep runs fn in a transaction on the step connection, committed when
// fn succeeds and rolled back otherwise (on a fresh context: the caller's
// may be cancelled, and the rollback must still reach the server).
func (g *Migrator) inStep(ctx context.Context, fn func(context.Context, pgx.Tx) error) error {
	tx, err := g.conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer rollback(tx)
	if err := fn(ctx, tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// runStep runs a file's statements and records version to, in tx, after
// checking that version from is the one recorded (clean).
func runStep(ctx context.Context, tx pgx.Tx, path string, stmts []statement, from, to int) error {
	if err := claimVersion(ctx, tx, from); err != nil {
		return err
	}
	for _, s := range stmts {
		if _, err := tx.Exec(ctx, s.SQL); err != nil {
			return &StatementError{File: path, Line: s.Line, Statement: s.FirstLine(), Err: err}
		}
	}
	return writeVersion(ctx, tx, to)
}

// StatementError is a statement of a migration file that failed: the file,
// the line it starts on and its first line, never the whole file.
type StatementError struct {
	File      string
	Line      int
	Statement string
	Err       error
}

func (e *StatementError) Error() string {
	return fmt.Sprintf("%s line %d (%s): %v", e.File, e.Line, e.Statement, e.Err)
}

func (e *StatementError) Unwrap() error { return e.Err }

// lockVersionTable locks hmperf.schema_migrations against every other
// writer (readers go on) until tx ends, and reads it.
func lockVersionTable(ctx context.Context, tx pgx.Tx) (v int, dirty bool, err error) {
	if _, err := tx.Exec(ctx, "LOCK TABLE hmperf.schema_migrations IN SHARE ROW EXCLUSIVE MODE"); err != nil {
		return 0, false, fmt.Errorf("lock hmperf.schema_migrations: %w", err)
	}
	return readVersionRow(ctx, tx)
}

// claimVersion locks the version table and checks that it records from,
// clean: a step planned on a version someone else has since changed must
// not run.
func claimVersion(ctx context.Context, tx pgx.Tx, from int) error {
	if ok, err := relationExists(ctx, tx, Schema+".schema_migrations"); err != nil || !ok {
		if err == nil && from != nilVersion {
			err = fmt.Errorf("hmperf.schema_migrations is gone, expected version %d", from)
		}
		return err
	}
	v, dirty, err := lockVersionTable(ctx, tx)
	switch {
	case err != nil:
		return err
	case dirty || v != from:
		return fmt.Errorf("the recorded version changed to %s while this step was planned at %s (another tool changed the schema); nothing done by this step", versionWord(v, dirty), versionWord(from, false))
	}
	return nil
}

func versionWord(v int, dirty bool) string {
	s := strconv.Itoa(v)
	if v == nilVersion {
		s = "none"
	}
	if dirty {
		s += " (dirty)"
	}
	return s
}

// writeVersion records v, clean; nilVersion leaves the table empty, as
// golang-migrate records "nothing applied".
func writeVersion(ctx context.Context, tx pgx.Tx, v int) error {
	if _, err := tx.Exec(ctx, "DELETE FROM hmperf.schema_migrations"); err != nil {
		return fmt.Errorf("record version %d: %w", v, err)
	}
	if v == nilVersion {
		return nil
	}
	if _, err := tx.Exec(ctx, "INSERT INTO hmperf.schema_migrations (version, dirty) VALUES ($1, false)", int64(v)); err != nil {
		return fmt.Errorf("record version %d: %w", v, err)
	}
	return nil
}

// statements reads a migration file and returns its statements without
// the file's own BEGIN and COMMIT: the step's transaction replaces them.
func (g *Migrator) statements(path string) ([]statement, error) {
	body, err := fs.ReadFile(g.src, path)
	if err != nil {
		return nil, fmt.Errorf("read migration %s: %w", path, err)
	}
	return stepStatements(path, string(body))
}

// watch is a lockwait.Watch over the Migrator's side connection (opened on
// first use) for the step connection's backend.
func (g *Migrator) watch(ctx context.Context) (lockwait.Watch, error) {
	if g.watcher == nil || g.watcher.IsClosed() {
		c, err := pgx.ConnectConfig(ctx, g.cfg)
		if err != nil {
			return nil, fmt.Errorf("open the connection that names lock blockers: %w", err)
		}
		g.watcher = c
	}
	w, pid := g.watcher, g.conn.PgConn().PID()
	return func(ctx context.Context) ([]lockwait.Blocker, error) {
		return lockwait.BlockersOf(w, pid)(ctx)
	}, nil
}

func (g *Migrator) closeWatcher() {
	if g.watcher != nil {
		_ = g.watcher.Close(context.Background())
		g.watcher = nil
	}
}
