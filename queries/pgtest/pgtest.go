// Package pgtest gives tests real PostgreSQL databases: one throwaway cluster
// per test binary (started with pglaunch), or the server named by
// HMPERF_TEST_DSN, and a fresh database per test.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/goleak"

	"hmperf/migrations"
	"hmperf/queries/pglaunch"
)

// EnvDSN names the variable that points the tests at an existing server. Its
// role must be allowed to create databases.
const EnvDSN = "HMPERF_TEST_DSN"

// server is the per-binary state. Tests share it, which is the point: one
// cluster start per binary, not per test.
type server struct {
	once     sync.Once
	err      error
	cluster  *pglaunch.Cluster
	admin    *pgx.ConnConfig
	tmplOnce sync.Once
	tmplErr  error
	tmplName string
	mu       sync.Mutex // serialises CREATE DATABASE ... TEMPLATE
}

var shared server

// Main runs the tests of a package, stops its cluster and exits. Call it
// from TestMain: `func TestMain(m *testing.M) { pgtest.Main(m) }`.
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run is Main for a TestMain with its own cleanup to do after the tests:
// it runs them, stops the cluster and returns the exit code.
func Run(m *testing.M) int {
	code := m.Run()
	shared.shutdown()
	return code
}

func (s *server) start() error {
	s.once.Do(func() {
		dsn := os.Getenv(EnvDSN)
		if dsn == "" {
			c, err := pglaunch.Start(context.Background(), pglaunch.Options{Fetch: pglaunch.FetchOptions{Progress: os.Stderr}})
			if err != nil {
				s.err = fmt.Errorf("start a test cluster: %w", err)
				return
			}
			s.cluster = c
			dsn = c.DSN("postgres")
		}
		s.admin, s.err = pgx.ParseConfig(dsn)
	})
	return s.err
}

func (s *server) shutdown() {
	if s.tmplName != "" && s.admin != nil {
		_ = s.exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{s.tmplName}.Sanitize())
	}
	if s.cluster != nil {
		_ = s.cluster.Stop()
	}
}

// Cluster returns the launched cluster, or nil when HMPERF_TEST_DSN is used.
func Cluster(t testing.TB) *pglaunch.Cluster {
	t.Helper()
	if err := shared.start(); err != nil {
		t.Fatal(err)
	}
	return shared.cluster
}

func (s *server) exec(ctx context.Context, sql string) error {
	conn, err := pgx.ConnectConfig(ctx, s.admin)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// dsnFor returns the admin DSN with its database replaced by name.
func (s *server) configFor(name string) *pgx.ConnConfig {
	cfg := s.admin.Copy()
	cfg.Database = name
	return cfg
}

// NewDB creates an empty database for the test and drops it at cleanup. It
// returns its connection string.
func NewDB(t testing.TB) string {
	t.Helper()
	return DSN(newDB(t, ""))
}

// NewMigratedDB creates a database with every migration applied, cloned from
// a template migrated once per test binary.
func NewMigratedDB(t testing.TB) string {
	t.Helper()
	if err := shared.start(); err != nil {
		t.Fatal(err)
	}
	shared.tmplOnce.Do(func() { shared.tmplErr = shared.buildTemplate() })
	if shared.tmplErr != nil {
		t.Fatal(shared.tmplErr)
	}
	return DSN(newDB(t, shared.tmplName))
}

// Connect opens a connection to dsn, labelled app (as application_name)
// where app is not "", and closes it at the test's cleanup.
func Connect(t testing.TB, dsn, app string) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	if app != "" {
		cfg.RuntimeParams["application_name"] = app
	}
	conn, err := pgx.ConnectConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// DSN renders cfg as a keyword/value connection string.
func DSN(cfg *pgx.ConnConfig) string {
	s := fmt.Sprintf("host=%s port=%d user=%s dbname=%s", quote(cfg.Host), cfg.Port, quote(cfg.User), quote(cfg.Database))
	if cfg.TLSConfig == nil {
		s += " sslmode=disable"
	}
	if cfg.Password != "" {
		s += " password=" + quote(cfg.Password)
	}
	return s
}

func quote(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

func newDB(t testing.TB, template string) *pgx.ConnConfig {
	t.Helper()
	if err := shared.start(); err != nil {
		t.Fatal(err)
	}
	name := "hmperf_test_" + randomSuffix()
	sql := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	if template != "" {
		sql += " TEMPLATE " + pgx.Identifier{template}.Sanitize()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	shared.mu.Lock()
	err := shared.exec(ctx, sql)
	shared.mu.Unlock()
	if err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := shared.exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	return shared.configFor(name)
}

func (s *server) buildTemplate() error {
	name := "hmperf_tmpl_" + randomSuffix()
	ctx := context.Background()
	if err := s.exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("create template database: %w", err)
	}
	s.tmplName = name
	m, err := migrations.NewWithConfig(ctx, s.configFor(name), nil)
	if err != nil {
		return fmt.Errorf("open template for migration: %w", err)
	}
	defer m.Close()
	if err := m.Up(); err != nil {
		return fmt.Errorf("migrate template: %w", err)
	}
	return nil
}

func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// MainNoLeaks is Main that also fails the run when goroutines outlive the
// tests (checked after the cluster is stopped): every goroutine hmperf
// starts must have an owner that ends it.
func MainNoLeaks(m *testing.M, opts ...goleak.Option) { os.Exit(NoLeaks(Run(m), opts...)) }

// NoLeaks turns a passing exit code into a failing one when goroutines are
// still running, for a TestMain that calls Run itself.
func NoLeaks(code int, opts ...goleak.Option) int {
	if code != 0 {
		return code
	}
	if err := goleak.Find(opts...); err != nil {
		fmt.Fprintf(os.Stderr, "goroutines left running after the tests: %v\n", err)
		return 1
	}
	return 0
}
