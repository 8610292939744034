package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"hmperf/migrations"
	"hmperf/queries/pgtest"
)

// serviceWrite inserts n activity rows for a new user as the service does:
// plain INSERTs on a connection of its own, committed; then it flushes the
// session's statistics so the next sample sees them.
func serviceWrite(t *testing.T, dsn string, n int) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `WITH u AS (INSERT INTO users (email) VALUES ('service-writer-' || gen_random_uuid() || '@example.invalid') RETURNING id)
		INSERT INTO activity_metrics_v2 (user_id, recorded_at, step_count)
		SELECT u.id, now() - make_interval(secs => g), g FROM u, generate_series(1, $1::int) g`, n); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "SELECT pg_stat_force_next_flush()"); err != nil {
		t.Fatal(err)
	}
}

func TestServiceDatabaseEndToEndFixture(t *testing.T) {
	t.Parallel()
	serviceEndToEnd(t, serviceDB(t))
}

// TestServiceDatabaseEndToEndDump runs the same path on the dump of the
// service's real database, where it is beside the project (CI has it).
func TestServiceDatabaseEndToEndDump(t *testing.T) {
	t.Parallel()
	serviceEndToEnd(t, serviceDumpDB(t))
}

// serviceDumpDB returns a database loaded from the dump of the service's
// real database, or skips the test where the dump is not beside the project.
func serviceDumpDB(t *testing.T) string {
	t.Helper()
	dump := filepath.Join("..", "..", "..", "shared", "fixtures", "original-service", "schema.sql")
	if _, err := os.Stat(dump); err != nil {
		t.Skip("the service's dump (../shared/fixtures/original-service) is not beside the project")
	}
	dsn := pgtest.NewDB(t)
	pgtest.LoadServiceDump(t, dsn, dump)
	return dsn
}

// serviceEndToEnd is what a DBA does on the service's database, command by
// command: status, adopt, a sample ingest (into the sandbox), a benchmark,
// the alerts, the service's own writes seen by the monitor, and removal.
func serviceEndToEnd(t *testing.T, dsn string) {
	ctx := context.Background()
	before := pgtest.SchemaDump(t, dsn)
	if st := statusJSON(t, dsn); st.State != migrations.StateForeign {
		t.Fatalf("status before adopt: %q (%s), want foreign", st.State, st.Summary)
	}
	if r := runCmd(ctx, "", "migrate", "adopt", "--yes", "--dsn", dsn); r.code != 0 {
		t.Fatalf("adopt: exit %d\n%s", r.code, r.stderr)
	}
	files, err := migrations.List(migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	if st := statusJSON(t, dsn); st.State != migrations.StateHmperf || st.Version != files[len(files)-1].Version || st.Adoption == nil {
		t.Fatalf("status after adopt: %q version %d adopted %v", st.State, st.Version, st.Adoption != nil)
	}

	live := liveCounts(t, dsn)
	r := runCmd(ctx, "", "ingest", "--sample", "2000", "--batch-size", "500", "--json", "--dsn", dsn)
	if r.code != 0 {
		t.Fatalf("sample ingest: exit %d\n%s", r.code, r.stderr)
	}
	if out := decodeIngest(t, r); out.Inserted == 0 || !strings.Contains(r.stdout, `"target": "sandbox"`) {
		t.Fatalf("sample ingest on an adopted database: %s", r.stdout)
	}
	if after := liveCounts(t, dsn); !mapsEqual(live, after) {
		t.Fatalf("a sample ingest changed the live tables: before %v, after %v", live, after)
	}
	var boxed int64
	queryRow(t, dsn, "SELECT count(*) FROM hmperf_sandbox.activity_metrics_v2", &boxed)
	if boxed == 0 {
		t.Error("the sandbox holds no activity rows after a sample ingest")
	}

	// Rows refused or rejected in the sandbox are hmperf's sample data:
	// nothing pages for them.
	if doc := alertsDoc(t, dsn); doc.ExitCode != 0 {
		t.Fatalf("alerts after a sample ingest into the sandbox: exit %d, %+v", doc.ExitCode, doc)
	}

	if r := runCmd(ctx, "", "bench", "--table", "all", "--rows", "300", "--reps", "2", "--dsn", dsn); r.code != 0 {
		t.Fatalf("bench: exit %d\n%s", r.code, r.stderr)
	}
	if after := liveCounts(t, dsn); !mapsEqual(live, after) {
		t.Fatalf("a benchmark left rows in the live tables: before %v, after %v", live, after)
	}
	// What a benchmark measured (on scratch copies) is its run's finding:
	// the service's database is as healthy as before it.
	if doc := alertsDoc(t, dsn); doc.ExitCode != 0 {
		t.Fatalf("alerts after a benchmark: exit %d, %+v %s", doc.ExitCode, doc.Alerts, doc.Error)
	}

	// The service's own writes reach the monitor by sampling statistics:
	// one sample as a baseline, 5,000 rows by another connection, one more.
	if r := runCmd(ctx, "", "monitor", "--once", "--dsn", dsn); r.code != 0 {
		t.Fatalf("monitor --once (baseline): exit %d\n%s", r.code, r.stderr)
	}
	serviceWrite(t, dsn, 5000)
	if r := runCmd(ctx, "", "monitor", "--once", "--json", "--dsn", dsn); r.code != 0 {
		t.Fatalf("monitor --once: exit %d\n%s", r.code, r.stderr)
	}
	var observed int64
	queryRow(t, dsn, `SELECT coalesce(sum(observed_rows), 0) FROM real_time_constraint_performance
		WHERE table_name = 'activity_metrics_v2'`, &observed)
	if observed != 5000 {
		t.Errorf("real_time_constraint_performance shows %d observed activity rows, want the service's 5000", observed)
	}

	if r := runCmd(ctx, "", "migrate", "down", "--all", "--yes", "--dsn", dsn); r.code != 0 {
		t.Fatalf("down --all: exit %d\n%s", r.code, r.stderr)
	}
	if after := pgtest.SchemaDump(t, dsn); after != before {
		t.Errorf("the schema after adopt, use and down --all differs from before adopt")
	}
}

// alertsDoc runs `hmperf alerts --json`.
func alertsDoc(t *testing.T, dsn string) alertsJSON {
	t.Helper()
	r := runCmd(context.Background(), "", "alerts", "--json", "--dsn", dsn)
	var doc alertsJSON
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || doc.ExitCode != r.code {
		t.Fatalf("alerts --json: exit %d, %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	return doc
}
