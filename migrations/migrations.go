// Package migrations holds hmperf's schema as embedded SQL migrations and a
// thin wrapper over golang-migrate that applies them.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"sync/atomic"

	"github.com/golang-migrate/migrate/v4"
	migratepgx "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"hmperf/queries/lockwait"
)

// FS holds the migration files, NNNN_title.up.sql and NNNN_title.down.sql.
//
//go:embed *.sql
var FS embed.FS

// Migration is one numbered migration and whether it is applied.
type Migration struct {
	Version uint   `json:"version"`
	Name    string `json:"name"`
	Applied bool   `json:"applied"`
}

// Status describes the schema's migration state and what the database is.
type Status struct {
	// Version is the current version; 0 with HasVersion false when nothing
	// has been applied.
	Version    uint        `json:"version"`
	HasVersion bool        `json:"has_version"`
	Dirty      bool        `json:"dirty"`
	Pending    int         `json:"pending"`
	Migrations []Migration `json:"migrations"`
	Classification
}

// Migrator applies migrations on its own short-lived connection, separate
// from any application pool.
type Migrator struct {
	// closed is set once DownAll has removed hmperf's schema; the next
	// change reconnects.
	closed bool
	m      *migrate.Migrate
	db     *sql.DB
	files  []Migration
	cfg    *pgx.ConnConfig
	src    fs.FS
	// lock is how a step whose lock wait timed out is retried.
	lock lockwait.Policy
	// pid is the backend of golang-migrate's connection, whose blockers
	// a retry names. Atomic: the watcher reads it while a failed step
	// reconnects.
	pid atomic.Uint32
	// watcher is the side connection that reads the blockers while a
	// step waits; opened on the first step.
	watcher *pgx.Conn
}

// New opens a Migrator for the database named by dsn (a URL or keyword/value
// string; libpq environment variables fill in what it leaves out). src is the
// migration source; nil means the embedded FS.
func New(dsn string, src fs.FS) (*Migrator, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	return NewWithConfig(context.Background(), cfg, src)
}

// NewWithConfig is New for an already parsed connection configuration.
func NewWithConfig(ctx context.Context, cfg *pgx.ConnConfig, src fs.FS) (*Migrator, error) {
	if src == nil {
		src = FS
	}
	files, err := List(src)
	if err != nil {
		return nil, err
	}
	cfg = cfg.Copy()
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	// Unqualified names in the migration files mean the service's schema.
	// The default search_path starts with "$user": a role named like
	// hmperf's own schema would otherwise create every object there.
	cfg.RuntimeParams["search_path"] = "public"
	// The migrations' own connections are hmperf's traffic too, labelled
	// as such where the caller did not say which command it is.
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = "hmperf migrate"
	}
	g := &Migrator{files: files, cfg: cfg, src: src}
	if err := g.open(ctx); err != nil {
		return nil, err
	}
	return g, nil
}

// ErrForeign is returned when a Migrator is opened on a database that
// another tool manages: running hmperf's base migrations there would collide
// with the service's own tables.
var ErrForeign = errors.New("hmperf's base migrations would collide with its tables")

// open connects golang-migrate to the database. It refuses a database that
// another tool manages before writing anything (golang-migrate creates its
// version table as soon as it connects).
func (g *Migrator) open(ctx context.Context) error {
	st, err := g.readStatus(ctx)
	if err != nil {
		return err
	}
	if st.State == StateForeign {
		return fmt.Errorf("this database is %s: %w; %s", st.Summary, ErrForeign, st.Next)
	}
	db := stdlib.OpenDB(*g.cfg)
	// One connection: golang-migrate keeps it for every statement, so the
	// backend read here is the one whose lock waits a retry explains.
	db.SetMaxOpenConns(1)
	var pid uint32
	if err := db.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		db.Close()
		return err
	}
	g.pid.Store(pid)
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+Schema); err != nil {
		db.Close()
		return fmt.Errorf("create schema %s: %w", Schema, err)
	}
	driver, err := migratepgx.WithInstance(db, &migratepgx.Config{SchemaName: Schema, MigrationsTable: "schema_migrations"})
	if err != nil {
		db.Close()
		return err
	}
	source, err := iofs.New(g.src, ".")
	if err != nil {
		db.Close()
		return err
	}
	m, err := migrate.NewWithInstance("iofs", source, "pgx5", driver)
	if err != nil {
		db.Close()
		return err
	}
	g.m, g.db = m, db
	return nil
}

// readStatus reads the status on a connection of its own.
func (g *Migrator) readStatus(ctx context.Context) (Status, error) {
	conn, err := pgx.ConnectConfig(ctx, g.cfg)
	if err != nil {
		return Status{}, err
	}
	defer conn.Close(context.Background())
	return ReadStatus(ctx, conn, g.src)
}

// afterChange reopens the connection when a migration failed: golang-migrate
// keeps its one connection, and a failed BEGIN … COMMIT file leaves it in an
// aborted transaction that would fail every later query (Status included).
func (g *Migrator) afterChange(err error) error {
	err = ignoreNoChange(err)
	if err == nil {
		return nil
	}
	_ = g.closeMigrate()
	if reopenErr := g.open(context.Background()); reopenErr != nil {
		return errors.Join(err, fmt.Errorf("reconnect after the failure: %w", reopenErr))
	}
	return err
}

// Close releases the connections.
func (g *Migrator) Close() error {
	g.closeWatcher()
	if g.closed {
		return nil
	}
	return g.closeMigrate()
}

// closeMigrate releases golang-migrate's connection.
func (g *Migrator) closeMigrate() error {
	srcErr, dbErr := g.m.Close()
	closeErr := g.db.Close()
	return errors.Join(srcErr, dbErr, closeErr)
}

// Status reports the current version, the dirty flag, every migration and
// what the database is.
func (g *Migrator) Status() (Status, error) {
	return g.readStatus(context.Background())
}

// Querier is what ReadStatus needs: a pool, a connection or a transaction.
type Querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// ReadStatus reads the recorded version from hmperf.schema_migrations
// directly and classifies the database. Unlike a Migrator, which creates its
// version table, it never writes, so it works on a read-only session and on a
// database hmperf does not manage. src nil means the embedded FS.
func ReadStatus(ctx context.Context, db Querier, src fs.FS) (Status, error) {
	if src == nil {
		src = FS
	}
	files, err := List(src)
	if err != nil {
		return Status{}, err
	}
	st, err := readVersion(ctx, db, files)
	if err != nil {
		return Status{}, err
	}
	if st.Classification, err = classify(ctx, db, st); err != nil {
		return Status{}, err
	}
	return st, nil
}

func readVersion(ctx context.Context, db Querier, files []Migration) (Status, error) {
	// Asked first, so a missing table never aborts the caller's transaction.
	exists, err := relationExists(ctx, db, Schema+".schema_migrations")
	if err != nil || !exists {
		return statusOf(files, 0, false, false), err
	}
	if err := checkReadable(ctx, db, Schema+".schema_migrations"); err != nil {
		return Status{}, err
	}
	var v int64
	var dirty bool
	err = db.QueryRow(ctx, "SELECT version, dirty FROM hmperf.schema_migrations LIMIT 1").Scan(&v, &dirty)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return statusOf(files, 0, false, false), nil
	case err != nil:
		return Status{}, fmt.Errorf("read hmperf.schema_migrations: %w", err)
	}
	return statusOf(files, uint(v), true, dirty), nil
}

// statusOf marks files applied up to version v; a dirty v is not applied.
func statusOf(files []Migration, v uint, has, dirty bool) Status {
	st := Status{Version: v, HasVersion: has, Dirty: dirty}
	for _, f := range files {
		f.Applied = has && f.Version <= v && !(dirty && f.Version == v)
		if !f.Applied {
			st.Pending++
		}
		st.Migrations = append(st.Migrations, f)
	}
	return st
}

// Up applies every pending migration. Nothing to do is not an error.
func (g *Migrator) Up() error { return g.UpContext(context.Background()) }

// UpContext is Up, one migration at a time (see step); ctx stops a wait
// for a lock between attempts.
func (g *Migrator) UpContext(ctx context.Context) error {
	if err := g.reopen(); err != nil {
		return err
	}
	for {
		cur, err := g.version()
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

// reopen reconnects a Migrator whose schema DownAll removed.
func (g *Migrator) reopen() error {
	if !g.closed {
		return nil
	}
	if err := g.open(context.Background()); err != nil {
		return err
	}
	g.closed = false
	return nil
}

// Down reverts the last n applied migrations. On an adopted database it
// never goes below BaseVersion: the base tables are the service's.
func (g *Migrator) Down(n int) error { return g.DownContext(context.Background(), n) }

// DownContext is Down, one migration at a time.
func (g *Migrator) DownContext(ctx context.Context, n int) error {
	if err := g.reopen(); err != nil {
		return err
	}
	if n <= 0 {
		return fmt.Errorf("down needs a positive number of steps, got %d", n)
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
		cur, err := g.version()
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
// in one short transaction.
func (g *Migrator) DownAllContext(ctx context.Context) error {
	if err := g.reopen(); err != nil {
		return err
	}
	st, err := g.Status()
	if err != nil {
		return err
	}
	floor := nilVersion
	if st.Adopted() {
		floor = int(BaseVersion)
	}
	if err := g.stepDownTo(ctx, floor); err != nil {
		return err
	}
	if err := g.removeBookkeeping(ctx); err != nil {
		return err
	}
	// golang-migrate's version table is gone; reconnecting recreates it, so
	// a later change through this Migrator starts from nothing applied.
	_ = g.closeMigrate()
	g.closed = true
	return nil
}

// stepDownTo reverts one migration after another while the version is
// above floor.
func (g *Migrator) stepDownTo(ctx context.Context, floor int) error {
	for {
		cur, err := g.version()
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
// transaction retried like a migration step. The schema is dropped without
// CASCADE: anything left in it that hmperf did not put there makes this
// fail rather than vanish.
func (g *Migrator) removeBookkeeping(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, g.cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	watch, err := g.watch(ctx, func() uint32 { return conn.PgConn().PID() })
	if err != nil {
		return err
	}
	return g.lock.Run(ctx, "remove hmperf's schema", watch, func(ctx context.Context) error {
		return dropBookkeeping(ctx, conn)
	})
}

func dropBookkeeping(ctx context.Context, conn *pgx.Conn) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer rollback(tx)
	for _, stmt := range []string{
		"DROP TABLE IF EXISTS hmperf.schema_migrations",
		"DROP TABLE IF EXISTS hmperf.adoption",
		"DROP SCHEMA IF EXISTS hmperf",
	} {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("remove hmperf's schema: %s: %w", stmt, err)
		}
	}
	return tx.Commit(ctx)
}

// Goto migrates up or down to version v; on an adopted database not below
// BaseVersion.
func (g *Migrator) Goto(v uint) error { return g.GotoContext(context.Background(), v) }

// GotoContext is Goto, one migration at a time.
func (g *Migrator) GotoContext(ctx context.Context, v uint) error {
	if err := g.reopen(); err != nil {
		return err
	}
	if !g.known(v) {
		return fmt.Errorf("no migration with version %d", v)
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
		cur, err := g.version()
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
func (g *Migrator) Force(v int) error {
	if err := g.reopen(); err != nil {
		return err
	}
	if v != -1 && (v < 0 || !g.known(uint(v))) {
		return fmt.Errorf("no migration with version %d", v)
	}
	return g.m.Force(v)
}

func (g *Migrator) known(v uint) bool {
	for _, f := range g.files {
		if f.Version == v {
			return true
		}
	}
	return false
}

func ignoreNoChange(err error) error {
	if errors.Is(err, migrate.ErrNoChange) {
		return nil
	}
	return err
}

var fileName = regexp.MustCompile(`^(\d+)_(.+)\.(up|down)\.sql$`)

// List returns the migrations found in src, by version, all marked pending.
func List(src fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(src, ".")
	if err != nil {
		return nil, err
	}
	byVersion := map[uint]string{}
	for _, e := range entries {
		m := fileName.FindStringSubmatch(e.Name())
		if m == nil || m[3] != "up" {
			continue
		}
		v, err := strconv.ParseUint(m[1], 10, 32)
		if err != nil {
			return nil, fmt.Errorf("migration %s: bad version: %w", e.Name(), err)
		}
		byVersion[uint(v)] = m[2]
	}
	out := make([]Migration, 0, len(byVersion))
	for v, name := range byVersion {
		out = append(out, Migration{Version: v, Name: name})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}
