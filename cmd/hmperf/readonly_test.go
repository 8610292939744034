package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"hmperf/cmd/internal/alertcheck"
	"hmperf/cmd/internal/dashsource"
	"hmperf/migrations"
	"hmperf/queries/pgtest"
	"hmperf/tui/source"
)

// readOnlyRole creates a login role that may connect to the database of dsn
// and read every table in it, and nothing else: no INSERT, UPDATE, DELETE,
// no CREATE. It returns a DSN for that role. The role is cluster-wide, so it
// gets a unique name and is dropped at cleanup (its grants first, or DROP
// ROLE would refuse while the test database still exists).
func readOnlyRole(t *testing.T, dsn string) string {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	role := "hmperf_ro_" + strconv.FormatInt(time.Now().UnixNano(), 36)
	ident, db := pgx.Identifier{role}.Sanitize(), pgx.Identifier{cfg.Database}.Sanitize()
	dbExec(t, dsn, "CREATE ROLE "+ident+" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE")
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("drop role %s: %v", role, err)
			return
		}
		defer conn.Close(ctx)
		for _, sql := range []string{"DROP OWNED BY " + ident, "DROP ROLE " + ident} {
			if _, err := conn.Exec(ctx, sql); err != nil {
				t.Errorf("%s: %v", sql, err)
			}
		}
	})
	// PUBLIC may create in schema public on servers before 15; take that away
	// too, so the role really cannot create anything whatever the version.
	dbExec(t, dsn, "REVOKE CREATE ON SCHEMA public FROM PUBLIC")
	dbExec(t, dsn, "REVOKE ALL ON DATABASE "+db+" FROM PUBLIC")
	dbExec(t, dsn, "GRANT CONNECT ON DATABASE "+db+" TO "+ident)
	dbExec(t, dsn, "GRANT USAGE ON SCHEMA public TO "+ident)
	dbExec(t, dsn, "GRANT SELECT ON ALL TABLES IN SCHEMA public TO "+ident)
	dbExec(t, dsn, "GRANT USAGE ON SCHEMA hmperf TO "+ident)
	dbExec(t, dsn, "GRANT SELECT ON ALL TABLES IN SCHEMA hmperf TO "+ident)
	cfg.User = role
	cfg.Password = ""
	return pgtest.DSN(cfg)
}

// TestReadOnlyRoleDashboardAndCLI runs the dashboard's data source and the
// CLI as a role that can only read, with --read-only: every poll must work
// (a poll that writes, even a temp table, would fail here), every write must
// be refused before it reaches the server, and the read commands must work.
func TestReadOnlyRoleDashboardAndCLI(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dsn := pgtest.NewMigratedDB(t)
	// Data for every panel, written by the superuser: ingest batches (and
	// through them the constraint monitor), a stored benchmark run and a
	// queued index job.
	if r := runCmd(ctx, "", "ingest", "--dsn", dsn, "--sample", "300", "--batch-size", "100"); r.code != 0 {
		t.Fatalf("seed ingest: exit %d: %s", r.code, r.stderr)
	}
	if r := runCmd(ctx, "", "bench", "--dsn", dsn, "--table", "symptoms", "--rows", "50", "--reps", "1"); r.code != 0 {
		t.Fatalf("seed bench: exit %d: %s", r.code, r.stderr)
	}
	dbExec(t, dsn, `CREATE TABLE ro_items AS SELECT g AS a FROM generate_series(1, 100) g;
		INSERT INTO deferred_index_creation (table_name, index_name, method, columns, strategy)
		VALUES ('ro_items', 'ro_items_a', 'btree', '{a}', 'lazy')`)
	roDSN := readOnlyRole(t, dsn)

	// The role really cannot write, even without --read-only: the test
	// would prove nothing otherwise.
	conn, err := pgx.Connect(ctx, roDSN)
	if err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{"INSERT INTO ro_items VALUES (1)", "CREATE TABLE ro_probe (i int)", "DELETE FROM hmperf.ingest_batch_stats"} {
		if _, err := conn.Exec(ctx, sql); !isSQLState(err, pgerrcode.InsufficientPrivilege) {
			t.Errorf("as the read-only role, %s: %v, want insufficient_privilege (42501)", sql, err)
		}
	}
	conn.Close(ctx)

	tg, err := resolveTarget(ctx, connFlags{dsn: roDSN, connectTimeout: 10 * time.Second, readOnly: true}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := tg.Pool(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	src := newDBSource(tg, pool, dashboardOpts{benchRows: 50, benchReps: 1, sampleRate: 10})
	if !src.ReadOnly() {
		t.Fatal("dbSource.ReadOnly() is false with --read-only")
	}

	files, err := migrations.List(migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	latest := int(files[len(files)-1].Version)
	ov, err := src.Overview(ctx)
	if err != nil {
		t.Errorf("Overview: %v", err)
	} else if ov.SchemaVersion != latest || ov.Dirty || ov.PendingMigrations != 0 || len(ov.IngestRate) == 0 || len(ov.Verdicts) == 0 {
		t.Errorf("Overview as the read-only role: %+v", ov)
	}
	if rows, err := src.Constraints(ctx); err != nil || len(rows) == 0 {
		t.Errorf("Constraints: %d rows, %v", len(rows), err)
	}
	if _, err := src.Alerts(ctx); err != nil {
		t.Errorf("Alerts: %v", err)
	}
	if jobs, err := src.Indexes(ctx); err != nil || len(jobs) != 1 {
		t.Errorf("Indexes: %+v, %v", jobs, err)
	}
	if h, err := src.Benchmarks(ctx); err != nil || len(h.Runs) != 1 || len(h.Results) == 0 || len(h.Comparisons) == 0 {
		t.Errorf("Benchmarks: %+v, %v", h, err)
	}
	if st, err := src.Ingest(ctx); err != nil || len(st.Batches) == 0 {
		t.Errorf("Ingest: %+v, %v", st, err)
	}
	if ms, err := src.Migrations(ctx); err != nil || ms.Current != latest || len(ms.Migrations) != len(files) {
		t.Errorf("Migrations: %+v, %v", ms, err)
	}

	writes := map[string]func() error{
		"RunBenchmark":   func() error { return src.RunBenchmark(ctx, "all", func(source.BenchProgress) {}) },
		"StartIngest":    func() error { return src.StartIngest(ctx) },
		"ProcessIndexes": func() error { return src.ProcessIndexes(ctx) },
		"MigrateUp":      func() error { return src.MigrateUp(ctx) },
		"MigrateDown":    func() error { return src.MigrateDown(ctx, 1) },
		"Force":          func() error { return src.Force(ctx, latest) },
	}
	for name, f := range writes {
		if err := f(); !errors.Is(err, dashsource.ErrReadOnly) {
			t.Errorf("%s with --read-only: %v, want %v", name, err, dashsource.ErrReadOnly)
		}
	}

	var batchesBefore int64
	queryRow(t, dsn, "SELECT count(*) FROM hmperf.ingest_batch_stats", &batchesBefore)
	for _, args := range [][]string{
		{"migrate", "up", "--yes"},
		{"migrate", "down", "1", "--yes"},
		{"ingest", "--sample", "10"},
		{"bench", "--rows", "10", "--reps", "1"},
		{"indexes", "process"},
	} {
		r := runCmd(ctx, "", append(args, "--read-only", "--dsn", roDSN)...)
		if r.code == 0 || !strings.Contains(r.stderr, "--read-only") {
			t.Errorf("%v --read-only: exit %d, stderr %q; want a refusal naming --read-only", args, r.code, r.stderr)
		}
	}
	var batchesAfter int64
	var pending string
	queryRow(t, dsn, "SELECT count(*) FROM hmperf.ingest_batch_stats", &batchesAfter)
	queryRow(t, dsn, "SELECT status FROM deferred_index_creation WHERE index_name = 'ro_items_a'", &pending)
	if batchesAfter != batchesBefore || pending != "pending" || schemaVersion(t, dsn) != latest {
		t.Errorf("a refused command wrote: batches %d -> %d, index job %q, schema %d", batchesBefore, batchesAfter, pending, schemaVersion(t, dsn))
	}

	// The read commands work for the role and say what the superuser's
	// session says.
	want := runCmd(ctx, "", "alerts", "--dsn", dsn)
	got := runCmd(ctx, "", "alerts", "--read-only", "--dsn", roDSN)
	if got.code == alertcheck.Unknown || got.code != want.code || got.stdout != want.stdout {
		t.Errorf("alerts --read-only as the role: exit %d\n%s%s\nwant exit %d\n%s", got.code, got.stdout, got.stderr, want.code, want.stdout)
	}
	r := runCmd(ctx, "", "migrate", "status", "--json", "--read-only", "--dsn", roDSN)
	var st migrations.Status
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || r.code != 0 || st.Version != uint(latest) || st.Dirty || st.Pending != 0 {
		t.Errorf("migrate status --read-only as the role: exit %d, %+v, %v\n%s", r.code, st, err, r.stderr)
	}
}

// TestReadOnlySuperuserCannotWrite checks that --read-only is enforced by the
// server, not only by hmperf's own checks: a superuser's session opened by
// the target refuses writes with read_only_sql_transaction (25006).
func TestReadOnlySuperuserCannotWrite(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dsn := pgtest.NewMigratedDB(t)
	tg, err := resolveTarget(ctx, connFlags{dsn: dsn, connectTimeout: 10 * time.Second, readOnly: true}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := tg.Pool(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	conn, err := tg.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, sql := range []string{
		"CREATE TABLE ro_probe (i int)",
		"INSERT INTO users (email) VALUES (NULL)",
		"UPDATE constraint_alert_thresholds SET threshold = 1",
		"DELETE FROM hmperf.ingest_batch_stats",
	} {
		if _, err := pool.Exec(ctx, sql); !isSQLState(err, pgerrcode.ReadOnlySQLTransaction) {
			t.Errorf("pool, %s: %v, want read_only_sql_transaction (25006)", sql, err)
		}
		if _, err := conn.Exec(ctx, sql); !isSQLState(err, pgerrcode.ReadOnlySQLTransaction) {
			t.Errorf("conn, %s: %v, want read_only_sql_transaction (25006)", sql, err)
		}
	}
	// The same statement without --read-only succeeds: the refusal above
	// came from the flag, not from the statement.
	dbExec(t, dsn, "UPDATE constraint_alert_thresholds SET threshold = threshold")
}

func isSQLState(err error, code string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == code
}
