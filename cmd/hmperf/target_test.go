package main

import (
	"context"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"hmperf/migrations"
	"hmperf/queries/pgtest"
)

// serviceDSN is a database laid out as the ingest service lays out its own,
// with the sqlx version table; versioned adds hmperf's bookkeeping, sandbox
// schema and version table, as adopting it would.
func serviceDSN(t *testing.T, versioned bool) string {
	t.Helper()
	dsn := pgtest.NewDB(t)
	layout, err := os.ReadFile("../../queries/catalog/testdata/service_layout.sql")
	if err != nil {
		t.Fatal(err)
	}
	scripts := []string{string(layout), "CREATE TABLE _sqlx_migrations (version bigint PRIMARY KEY)"}
	if versioned {
		for _, suffix := range []string{"_hmperf_ingest_bookkeeping.up.sql", "_hmperf_sandbox.up.sql"} {
			names, err := fs.Glob(migrations.FS, "*"+suffix)
			if err != nil || len(names) != 1 {
				t.Fatalf("migration *%s: %v %v", suffix, names, err)
			}
			b, err := fs.ReadFile(migrations.FS, names[0])
			if err != nil {
				t.Fatal(err)
			}
			scripts = append(scripts, string(b))
		}
		scripts = append(scripts, "CREATE TABLE schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL); INSERT INTO schema_migrations VALUES (26, false)")
	}
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, s := range scripts {
		if _, err := conn.Exec(context.Background(), s); err != nil {
			t.Fatalf("set up the service layout: %v", err)
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
