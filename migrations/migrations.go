// Package migrations holds hmperf's schema as embedded SQL migrations and
// applies them, one transaction per step that also records the version.
package migrations

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"

	"hmperf/queries"
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

// Migrator applies migrations one step at a time on its own connection,
// separate from any application pool. Each step is one transaction that
// runs the file's statements and rewrites the recorded version, so a kill
// at any instant leaves the old version or the new one, never dirty.
type Migrator struct {
	files []Migration
	// paths maps a version to its up and down files.
	paths map[uint]filePair
	cfg   *pgx.ConnConfig
	src   fs.FS
	// lock is how a step whose lock wait timed out is retried.
	lock lockwait.Policy
	// conn runs every step; it holds the migration lock (LockClass,
	// LockObject) from the first change until Close.
	conn   *pgx.Conn
	locked bool
	// checked is set once conn watches for a client that went away.
	checked bool
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
	paths, err := listPaths(src)
	if err != nil {
		return nil, err
	}
	g := &Migrator{files: files, paths: paths, cfg: migratorConfig(cfg), src: src}
	if err := g.open(ctx); err != nil {
		return nil, err
	}
	return g, nil
}

// migratorConfig is cfg as a migration step needs its session.
func migratorConfig(cfg *pgx.ConnConfig) *pgx.ConnConfig {
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
	// A cancelled context (Ctrl-C) sends the server a CancelRequest: the
	// statement stops, even one waiting for a lock, and the connection
	// stays usable for the rollback. pgx's default only closes the socket,
	// which a backend waiting for a lock does not notice.
	cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: cancelGrace}
	}
	return cfg
}

// cancelGrace is how long a cancelled statement may take to answer the
// CancelRequest before its connection is given up.
const cancelGrace = 5 * time.Second

// ErrForeign is returned when a Migrator is opened on a database that
// another tool manages: running hmperf's base migrations there would collide
// with the service's own tables.
var ErrForeign = errors.New("hmperf's base migrations would collide with its tables")

// open refuses a database that another tool manages, before writing
// anything, and connects the step connection.
func (g *Migrator) open(ctx context.Context) error {
	if err := g.refuseForeign(ctx); err != nil {
		return err
	}
	conn, err := pgx.ConnectConfig(ctx, g.cfg)
	if err != nil {
		return err
	}
	g.conn = conn
	return nil
}

// refuseForeign returns ErrForeign, with what the database is, when
// another tool manages it.
func (g *Migrator) refuseForeign(ctx context.Context) error {
	st, err := g.readStatus(ctx)
	if err == nil && st.State == StateForeign {
		// A status is several statements: a concurrent hmperf migrate
		// that commits its first step between them shows the service's
		// tables but not yet its version. That commit came before this
		// read ended, so a second read sees the version too.
		st, err = g.readStatus(ctx)
	}
	if err != nil {
		return err
	}
	if st.State == StateForeign {
		return fmt.Errorf("this database is %s: %w; %s", st.Summary, ErrForeign, st.Next)
	}
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

// Close releases the connections, and with them the migration lock.
func (g *Migrator) Close() error {
	g.closeWatcher()
	if g.conn == nil {
		return nil
	}
	err := g.conn.Close(context.Background())
	g.conn, g.locked = nil, false
	return err
}

// Status reports the current version, the dirty flag, every migration and
// what the database is.
func (g *Migrator) Status() (Status, error) {
	return g.readStatus(context.Background())
}

// ReadStatus reads the recorded version from hmperf.schema_migrations
// directly and classifies the database. Unlike a Migrator, which creates its
// version table, it never writes, so it works on a read-only session and on a
// database hmperf does not manage. src nil means the embedded FS.
func ReadStatus(ctx context.Context, db queries.DBTX, src fs.FS) (Status, error) {
	if src == nil {
		src = FS
	}
	files, err := list(src)
	if err != nil {
		return Status{}, err
	}
	tables, err := lookUp(ctx, db, versionTable, adoptionTable)
	if err != nil {
		return Status{}, err
	}
	st, err := readVersion(ctx, db, files, tables[versionTable])
	if err != nil {
		return Status{}, err
	}
	if st.Classification, err = classify(ctx, db, src, st, tables[adoptionTable]); err != nil {
		return Status{}, err
	}
	return st, nil
}

// versionTable holds the applied version, as golang-migrate keeps it.
const versionTable = Schema + ".schema_migrations"

// readVersion reads the applied version, given what the catalogue says of
// the version table: asked first, so a missing table never aborts the
// caller's transaction.
func readVersion(ctx context.Context, db queries.DBTX, files []Migration, a access) (Status, error) {
	if !a.exists {
		return statusOf(files, 0, false, false), nil
	}
	if err := a.readable(versionTable); err != nil {
		return Status{}, err
	}
	v, dirty, err := selectVersionRow(ctx, db)
	switch {
	case err != nil:
		return Status{}, err
	case v == nilVersion && !dirty:
		return statusOf(files, 0, false, false), nil
	case v < 0:
		// golang-migrate marks a down of the first migration as a dirty
		// -1: a step to "nothing applied" that did not finish.
		v = 0
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

// embedded is List(FS), which cannot change while hmperf runs.
var embedded = sync.OnceValues(func() ([]Migration, error) { return List(FS) })

// list is List(src), listing the embedded migrations once: the dashboard
// reads the status every tick.
func list(src fs.FS) ([]Migration, error) {
	if src != fs.FS(FS) {
		return List(src)
	}
	files, err := embedded()
	return slices.Clone(files), err
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
