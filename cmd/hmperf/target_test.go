package main

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// serviceDSN returns a database laid out as the ingest service lays it out
// (the project's own fixture); adopted by hmperf when versioned is set.
func serviceDSN(t *testing.T, versioned bool) string {
	t.Helper()
	dsn := serviceDB(t)
	if versioned {
		if r := runCmd(context.Background(), "", "migrate", "adopt", "--yes", "--dsn", dsn); r.code != 0 {
			t.Fatalf("adopt: exit %d: %s", r.code, r.stderr)
		}
	}
	return dsn
}

func rowCount(t *testing.T, dsn, table string) int64 {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int64
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestIngestTargetOnServiceDatabase: on a database hmperf did not create,
// generated rows go to the sandbox unless --target live says otherwise.
func TestIngestTargetOnServiceDatabase(t *testing.T) {
	dsn := serviceDSN(t, true)
	ctx := context.Background()
	r := runCmd(ctx, "", "ingest", "--dsn", dsn, "--sample", "700", "--batch-size", "350", "--json")
	if r.code != 0 {
		t.Fatalf("sandbox ingest: exit %d: %s", r.code, r.stderr)
	}
	out := decodeIngest(t, r)
	if !strings.Contains(r.stdout, `"target": "sandbox"`) || out.Inserted == 0 {
		t.Errorf("sample ingest: %s", r.stdout)
	}
	if live, box := rowCount(t, dsn, "public.heart_rate_metrics"), rowCount(t, dsn, "hmperf_sandbox.heart_rate_metrics"); live != 0 || box == 0 {
		t.Errorf("after a sandbox ingest: %d live heart-rate rows, %d in the sandbox", live, box)
	}
	if n := rowCount(t, dsn, "public.users"); n != 0 {
		t.Errorf("%d live users after a sandbox ingest", n)
	}

	// The live tables take samples for the users the service has.
	execSQL(t, dsn, "INSERT INTO users (email) VALUES ('someone@example.com')")
	r = runCmd(ctx, "", "ingest", "--dsn", dsn, "--sample", "700", "--batch-size", "350", "--target", "live")
	if r.code != 0 {
		t.Fatalf("live ingest: exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "heart_rate_metrics.heart_rate_variability (the table has no such column)") {
		t.Errorf("the text report does not count the dropped field:\n%s", r.stdout)
	}
	if n := rowCount(t, dsn, "public.heart_rate_metrics"); n == 0 {
		t.Error("--target live wrote no live heart-rate rows")
	}
	if n := rowCount(t, dsn, "public.users"); n != 1 {
		t.Errorf("%d live users after a live sample, want the 1 the service had", n)
	}
}

// TestIngestRefusesUnversioned: a database hmperf has not versioned is not
// written, and the message names the fix.
func TestIngestRefusesUnversioned(t *testing.T) {
	dsn := serviceDSN(t, false)
	r := runCmd(context.Background(), "", "ingest", "--dsn", dsn, "--sample", "100", "--target", "live")
	if r.code == 0 || !strings.Contains(r.stderr, "hmperf migrate adopt") {
		t.Fatalf("exit %d, stderr %q; want a refusal naming `hmperf migrate adopt`", r.code, r.stderr)
	}
	if n := rowCount(t, dsn, "public.users"); n != 0 {
		t.Errorf("%d users written on a refused run", n)
	}
}

// TestIngestMissingTable: a record kind whose table the service's database
// lacks is counted as unsupported and named, in text and JSON; the rest is
// written.
func TestIngestMissingTable(t *testing.T) {
	dsn := serviceDSN(t, true)
	execSQL(t, dsn, "DROP TABLE workouts")
	ctx := context.Background()
	r := runCmd(ctx, "", "ingest", "--dsn", dsn, "--sample", "700", "--batch-size", "350")
	if r.code != 0 || !strings.Contains(r.stdout, "records for workouts (no such table)") {
		t.Fatalf("exit %d, stdout %q, stderr %q; want the missing table named", r.code, r.stdout, r.stderr)
	}
	// Another seed: the first run's records are in the tables already.
	r = runCmd(ctx, "", "ingest", "--dsn", dsn, "--sample", "700", "--batch-size", "350", "--seed", "2", "--json")
	out := decodeIngest(t, r)
	if r.code != 0 || out.MissingTables["workouts"] == 0 || out.MissingTables["workouts"] != out.Unsupported ||
		out.ByType["unsupported:workouts"] == nil || out.Inserted == 0 {
		t.Errorf("exit %d: missing tables %v, unsupported %d, inserted %d", r.code, out.MissingTables, out.Unsupported, out.Inserted)
	}
}
