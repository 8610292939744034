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

	"github.com/golang-migrate/migrate/v4"
	migratepgx "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
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

// Status describes the schema's migration state.
type Status struct {
	// Version is the current version; 0 with HasVersion false when nothing
	// has been applied.
	Version    uint        `json:"version"`
	HasVersion bool        `json:"has_version"`
	Dirty      bool        `json:"dirty"`
	Pending    int         `json:"pending"`
	Migrations []Migration `json:"migrations"`
}

// Migrator applies migrations on its own short-lived connection, separate
// from any application pool.
type Migrator struct {
	m     *migrate.Migrate
	db    *sql.DB
	files []Migration
	cfg   *pgx.ConnConfig
	src   fs.FS
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
	g := &Migrator{files: files, cfg: cfg, src: src}
	if err := g.open(ctx); err != nil {
		return nil, err
	}
	return g, nil
}

// open connects golang-migrate to the database.
func (g *Migrator) open(ctx context.Context) error {
	db := stdlib.OpenDB(*g.cfg)
	db.SetMaxOpenConns(2)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return err
	}
	driver, err := migratepgx.WithInstance(db, &migratepgx.Config{})
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

// afterChange reopens the connection when a migration failed: golang-migrate
// keeps its one connection, and a failed BEGIN … COMMIT file leaves it in an
// aborted transaction that would fail every later query (Status included).
func (g *Migrator) afterChange(err error) error {
	err = ignoreNoChange(err)
	if err == nil {
		return nil
	}
	_ = g.Close()
	if reopenErr := g.open(context.Background()); reopenErr != nil {
		return errors.Join(err, fmt.Errorf("reconnect after the failure: %w", reopenErr))
	}
	return err
}

// Close releases the connection.
func (g *Migrator) Close() error {
	srcErr, dbErr := g.m.Close()
	closeErr := g.db.Close()
	return errors.Join(srcErr, dbErr, closeErr)
}

// Status reports the current version, the dirty flag and every migration.
func (g *Migrator) Status() (Status, error) {
	v, dirty, err := g.m.Version()
	if err != nil && !errors.Is(err, migrate.ErrNilVersion) {
		return Status{}, err
	}
	return statusOf(g.files, v, err == nil, dirty), nil
}

// Querier is what ReadStatus needs: a pool, a connection or a transaction.
type Querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// ReadStatus reads the recorded version from schema_migrations directly.
// Unlike a Migrator, which creates that table when it is missing, it never
// writes, so it works on a read-only session. src nil means the embedded FS.
func ReadStatus(ctx context.Context, db Querier, src fs.FS) (Status, error) {
	if src == nil {
		src = FS
	}
	files, err := List(src)
	if err != nil {
		return Status{}, err
	}
	// Asked first, so a missing table never aborts the caller's transaction.
	var exists bool
	if err := db.QueryRow(ctx, "SELECT to_regclass('schema_migrations') IS NOT NULL").Scan(&exists); err != nil {
		return Status{}, fmt.Errorf("read schema_migrations: %w", err)
	}
	if !exists {
		return statusOf(files, 0, false, false), nil
	}
	var v int64
	var dirty bool
	err = db.QueryRow(ctx, "SELECT version, dirty FROM schema_migrations LIMIT 1").Scan(&v, &dirty)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return statusOf(files, 0, false, false), nil
	case err != nil:
		return Status{}, fmt.Errorf("read schema_migrations: %w", err)
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
func (g *Migrator) Up() error { return g.afterChange(g.m.Up()) }

// Down reverts the last n applied migrations.
func (g *Migrator) Down(n int) error {
	if n <= 0 {
		return fmt.Errorf("down needs a positive number of steps, got %d", n)
	}
	return g.afterChange(g.m.Steps(-n))
}

// DownAll reverts every applied migration.
func (g *Migrator) DownAll() error { return g.afterChange(g.m.Down()) }

// Goto migrates up or down to version v.
func (g *Migrator) Goto(v uint) error {
	if !g.known(v) {
		return fmt.Errorf("no migration with version %d", v)
	}
	return g.afterChange(g.m.Migrate(v))
}

// Force sets the recorded version without running anything and clears the
// dirty flag; -1 records that nothing is applied.
func (g *Migrator) Force(v int) error {
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
