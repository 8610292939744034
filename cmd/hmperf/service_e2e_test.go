package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"hmperf/cmd/internal/alertcheck"
	"hmperf/engine"
	"hmperf/migrations"
	"hmperf/queries/ingest"
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
// command, and issue 15's check of it: status, adopt, then a sample ingest
// (into the sandbox, with zero constraint failures), a benchmark and a real
// payload whose user the service does not have, after which the service's
// tables show no insert, update, delete, vacuum or analyze, their sequences
// and users are as they were, and the alerts say OK; then the service
// writes 3,000 rows and the monitor reports exactly those and nothing else;
// and removal leaves the schema as found.
func serviceEndToEnd(t *testing.T, dsn string) {
	ctx := context.Background()
	pgtest.WithoutAutovacuum(t, dsn)
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
	// The monitor's baseline comes before hmperf's own work, so the sample
	// after it spans all of it.
	if r := runCmd(ctx, "", "monitor", "--once", "--dsn", dsn); r.code != 0 {
		t.Fatalf("monitor --once (baseline): exit %d\n%s", r.code, r.stderr)
	}
	footprint := pgtest.Footprint(t, dsn)

	sampleIntoSandbox(t, dsn)
	if r := runCmd(ctx, "", "bench", "--table", "all", "--rows", "300", "--reps", "2", "--yes", "--dsn", dsn); r.code != 0 {
		t.Fatalf("bench: exit %d\n%s", r.code, r.stderr)
	}
	payloadOfUnknownUser(t, dsn)
	if diff := pgtest.FootprintDiff(footprint, pgtest.Footprint(t, dsn)); diff != "" {
		t.Errorf("a sample ingest, a benchmark and a payload of an unknown user left a trace on the service's objects:\n%s", diff)
	}
	// Rows refused or rejected in the sandbox and what a benchmark measured
	// on its scratch copies are hmperf's: the service's database is as
	// healthy as before.
	if doc := alertsDoc(t, dsn); doc.ExitCode != 0 {
		t.Fatalf("alerts after hmperf's own work: exit %d, %+v %s", doc.ExitCode, doc.Alerts, doc.Error)
	}

	// The service's own writes reach the monitor by sampling statistics:
	// 3,000 rows (and their one user) by another connection are exactly
	// what it reports, and no other table shows a row.
	serviceWrite(t, dsn, 3000)
	doc := monitorJSON(t, dsn)
	seen := false
	for _, ts := range doc.Tables {
		want := int64(0)
		switch ts.Table {
		case "activity_metrics_v2":
			want, seen = 3000, true
		case "users":
			want = 1
		}
		if ts.Rows != want || ts.RolledBack != 0 || ts.RollbackUnknown != 0 {
			t.Errorf("monitor --once --json: %s shows %d rows, %d rolled back, %d unknown; want the service's %d and nothing else",
				ts.Table, ts.Rows, ts.RolledBack, ts.RollbackUnknown, want)
		}
	}
	if !seen {
		t.Errorf("monitor --once --json has no sample of activity_metrics_v2: %+v", doc.Tables)
	}
	var observed int64
	queryRow(t, dsn, `SELECT coalesce(sum(observed_rows), 0) FROM real_time_constraint_performance
		WHERE table_name = 'activity_metrics_v2'`, &observed)
	if observed != 3000 {
		t.Errorf("real_time_constraint_performance shows %d observed activity rows, want the service's 3000", observed)
	}
	if doc := alertsDoc(t, dsn); doc.ExitCode != 0 {
		t.Fatalf("alerts after the service's writes: exit %d, %+v %s", doc.ExitCode, doc.Alerts, doc.Error)
	}

	if r := runCmd(ctx, "", "migrate", "down", "--all", "--yes", "--dsn", dsn); r.code != 0 {
		t.Fatalf("down --all: exit %d\n%s", r.code, r.stderr)
	}
	if after := pgtest.SchemaDump(t, dsn); after != before {
		t.Errorf("the schema after adopt, use and down --all differs from before adopt")
	}
}

// sampleIntoSandbox runs a sample ingest on an adopted database: its rows
// go to the sandbox, and every one the validator let through is one the
// service's CHECKs accept.
func sampleIntoSandbox(t *testing.T, dsn string) {
	t.Helper()
	r := runCmd(context.Background(), "", "ingest", "--sample", "2000", "--batch-size", "500", "--json", "--dsn", dsn)
	if r.code != 0 {
		t.Fatalf("sample ingest: exit %d\n%s", r.code, r.stderr)
	}
	if out := decodeIngest(t, r); out.Inserted == 0 || !strings.Contains(r.stdout, `"target": "sandbox"`) {
		t.Fatalf("sample ingest on an adopted database: %s", r.stdout)
	}
	var failures failureCounts
	if err := json.Unmarshal([]byte(r.stdout), &failures); err != nil {
		t.Fatal(err)
	}
	if failures.ConstraintFailures != 0 {
		t.Errorf("the sample had %d constraint failures, want 0: the generator and validator must know every CHECK of the service's tables", failures.ConstraintFailures)
	}
	var boxed int64
	queryRow(t, dsn, "SELECT count(*) FROM hmperf_sandbox.activity_metrics_v2", &boxed)
	if boxed == 0 {
		t.Error("the sandbox holds no activity rows after a sample ingest")
	}
}

// payloadOfUnknownUser imports a real-shaped payload whose user the
// service does not have: every record is rejected as "unknown user" and no
// user is created.
func payloadOfUnknownUser(t *testing.T, dsn string) {
	t.Helper()
	stranger, err := engine.ParseUUID("7d1a4a0e-33c5-4f7b-9b1e-2f3c4d5e6f70")
	if err != nil {
		t.Fatal(err)
	}
	path, per := generatedPayload(t, []engine.UUID{stranger}, 200)
	r := runCmd(context.Background(), "", "ingest", "--file", path, "--json", "--dsn", dsn)
	if r.code != 0 {
		t.Fatalf("ingest of a payload with an unknown user: exit %d\n%s", r.code, r.stderr)
	}
	out := decodeIngest(t, r)
	if out.Inserted != 0 || out.RejectsByReason[ingest.ReasonUnknownUser] == 0 ||
		out.RejectsByReason[ingest.ReasonUnknownUser]+out.Duplicates != per[stranger] {
		t.Errorf("a payload of %d records of an unknown user: inserted %d, rejected as unknown user %d, duplicates %d; want every record rejected or a duplicate, none inserted",
			per[stranger], out.Inserted, out.RejectsByReason[ingest.ReasonUnknownUser], out.Duplicates)
	}
}

// alertsDoc runs `hmperf alerts --json`.
func alertsDoc(t *testing.T, dsn string) alertcheck.Doc {
	t.Helper()
	r := runCmd(context.Background(), "", "alerts", "--json", "--dsn", dsn)
	var doc alertcheck.Doc
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || doc.ExitCode != r.code {
		t.Fatalf("alerts --json: exit %d, %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	return doc
}
