package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/cmd/internal/alertcheck"
	"hmperf/queries/pgtest"
)

// newRole creates a login role with a password and no privilege beyond what
// PUBLIC has, and returns a DSN for it. Roles are cluster-wide: the name is
// unique and the role is dropped at cleanup, its grants first.
func newRole(t *testing.T, dsn string) string {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	role, password := "hmperf_mon_"+randomHex(t, 6), randomHex(t, 12)
	ident := pgx.Identifier{role}.Sanitize()
	dbExec(t, dsn, "CREATE ROLE "+ident+" LOGIN PASSWORD '"+password+"' NOSUPERUSER NOCREATEDB NOCREATEROLE")
	t.Cleanup(func() {
		for _, sql := range []string{"DROP OWNED BY " + ident, "DROP ROLE " + ident} {
			dbExec(t, dsn, sql)
		}
	})
	cfg.User, cfg.Password = role, password
	return pgtest.DSN(cfg)
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// readmeGrants returns the SQL of README.md's section "A monitoring role",
// one statement per element, without the CREATE ROLE (the test makes its own
// role) and with the README's role and database names replaced by role and
// db. The README's parent directory is the repository root.
func readmeGrants(t *testing.T, role, db string) []string {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## A monitoring role\n")
	if !ok {
		t.Fatal(`README.md has no section "A monitoring role"`)
	}
	_, block, ok := strings.Cut(section, "```sql\n")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 {
		t.Fatal(`README.md's "A monitoring role" has no sql block`)
	}
	names := strings.NewReplacer("hmperf_monitor", pgx.Identifier{role}.Sanitize(), "health_metrics", pgx.Identifier{db}.Sanitize())
	var out []string
	for _, stmt := range strings.Split(block, ";") {
		stmt = strings.TrimSpace(stmt)
		if stmt == "" || strings.HasPrefix(stmt, "CREATE ROLE") {
			continue
		}
		out = append(out, names.Replace(stmt))
	}
	return out
}

// TestMonitoringRole: a login role given exactly the README's grants
// (pg_monitor, SELECT on the tables, EXECUTE on the alert function) runs
// every panel of the dashboard's data source with --read-only, without an
// error and with the data the panels show. PUBLIC's default EXECUTE on
// functions is revoked first, so the README's own grant is what lets the
// alert check run.
func TestMonitoringRole(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dsn := pgtest.NewMigratedDB(t)
	if r := runCmd(ctx, "", "ingest", "--dsn", dsn, "--sample", "300", "--batch-size", "100"); r.code != 0 {
		t.Fatalf("seed ingest: exit %d: %s", r.code, r.stderr)
	}
	if r := runCmd(ctx, "", "bench", "--dsn", dsn, "--table", "symptoms", "--rows", "50", "--reps", "1"); r.code != 0 {
		t.Fatalf("seed bench: exit %d: %s", r.code, r.stderr)
	}
	dbExec(t, dsn, `CREATE TABLE mon_items AS SELECT g AS a FROM generate_series(1, 100) g;
		INSERT INTO deferred_index_creation (table_name, index_name, method, columns, strategy)
		VALUES ('mon_items', 'mon_items_a', 'btree', '{a}', 'lazy')`)
	dbExec(t, dsn, "REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA public, hmperf FROM PUBLIC")

	roleDSN := newRole(t, dsn)
	cfg, err := pgx.ParseConfig(roleDSN)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range readmeGrants(t, cfg.User, cfg.Database) {
		dbExec(t, dsn, stmt)
	}

	src := dashSource(t, ctx, roleDSN)
	ov, err := src.Overview(ctx)
	if err != nil || ov.AlertsUnknown != "" || len(ov.IngestRate) == 0 || len(ov.Verdicts) == 0 {
		t.Errorf("Overview: %v, alerts unknown %q, %d rate points, %d verdicts", err, ov.AlertsUnknown, len(ov.IngestRate), len(ov.Verdicts))
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
	if h, err := src.Benchmarks(ctx); err != nil || len(h.Runs) != 1 || len(h.Results) == 0 {
		t.Errorf("Benchmarks: %d runs, %d results, %v", len(h.Runs), len(h.Results), err)
	}
	if st, err := src.Ingest(ctx); err != nil || len(st.Batches) == 0 {
		t.Errorf("Ingest: %d batches, %v", len(st.Batches), err)
	}
	if ms, err := src.Migrations(ctx); err != nil || ms.Current == 0 || ms.Dirty {
		t.Errorf("Migrations: %+v, %v", ms, err)
	}
	if row := serverRow(t, ctx, src); row.Err != "" || row.Role != "primary" || row.AlertsUnknown != "" {
		t.Errorf("Servers as the monitoring role: %+v", row)
	}
	if r := runCmd(ctx, "", "alerts", "--read-only", "--dsn", roleDSN); r.code == alertcheck.Unknown {
		t.Errorf("alerts as the monitoring role: UNKNOWN\n%s%s", r.stdout, r.stderr)
	}
}
