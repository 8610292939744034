package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/engine"
	"hmperf/queries/pgtest"
)

// serviceLayoutDB is a database laid out as the service lays out its own
// tables with heart_rate_metrics lacking a unique key, as in its dump
// (queries/catalog/testdata/service_layout.sql), adopted by hmperf.
func serviceLayoutDB(t *testing.T) string {
	t.Helper()
	dsn := pgtest.NewDB(t)
	pgtest.LoadSQLFile(t, dsn, filepath.Join("..", "..", "queries", "catalog", "testdata", "service_layout.sql"))
	adoptService(t, dsn)
	return dsn
}

func adoptService(t *testing.T, dsn string) {
	t.Helper()
	if r := runCmd(context.Background(), "", "migrate", "adopt", "--yes", "--dsn", dsn); r.code != 0 {
		t.Fatalf("adopt: exit %d\n%s", r.code, r.stderr)
	}
}

// noKeyLayouts are the service-like databases whose heart_rate_metrics
// has no unique key: the project's fixture, and the dump where present.
func noKeyLayouts(t *testing.T) map[string]func(*testing.T) string {
	layouts := map[string]func(*testing.T) string{"service layout": serviceLayoutDB}
	if _, err := os.Stat(serviceDumpPath); err == nil {
		layouts["service dump"] = func(t *testing.T) string { dsn := serviceDumpDB(t); adoptService(t, dsn); return dsn }
	}
	return layouts
}

var serviceDumpPath = filepath.Join("..", "..", "..", "shared", "fixtures", "original-service", "schema.sql")

// heartRatePayloadFile writes a payload of n valid heart-rate records of
// five users it adds to the database, and returns its path.
func heartRatePayloadFile(t *testing.T, dsn string, n int) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `INSERT INTO users (id, email)
		SELECT gen_random_uuid(), 'payload-' || g || '-' || gen_random_uuid() || '@example.invalid' FROM generate_series(1, 5) g RETURNING id`)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[[16]byte])
	if err != nil {
		t.Fatal(err)
	}
	users := make([]engine.UUID, len(ids))
	for i, id := range ids {
		users[i] = id
	}
	g, err := engine.NewGenerator(engine.GenConfig{Seed: 16, UserIDs: users, Types: []engine.Kind{engine.KindHeartRate},
		End: time.Now().UTC().Truncate(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	recs := make([]engine.Record, n)
	for i := range recs {
		recs[i] = g.Next().Record
	}
	var buf bytes.Buffer
	if err := engine.EncodePayload(&buf, recs); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(privateTempDir(t), "heart_rate.json")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func heartRateCounts(t *testing.T, dsn string) (rows, distinct int64) {
	t.Helper()
	queryRow(t, dsn, "SELECT count(*), count(DISTINCT (user_id, recorded_at)) FROM heart_rate_metrics", &rows, &distinct)
	return rows, distinct
}

// TestIngestFileTwice is issue 16's check: on the service's layouts, with
// and without a unique key on heart_rate_metrics, a payload of 2,000
// heart-rate records imported twice with `hmperf ingest --file` adds rows
// only the first time.
func TestIngestFileTwice(t *testing.T) {
	t.Parallel()
	layouts := noKeyLayouts(t)
	layouts["service fixture, unique key"] = func(t *testing.T) string { dsn := serviceDB(t); adoptService(t, dsn); return dsn }
	for name, layout := range layouts {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dsn := layout(t)
			file := heartRatePayloadFile(t, dsn, 2000)
			for i, want := range []struct{ inserted, duplicates int64 }{{2000, 0}, {0, 2000}} {
				r := runCmd(context.Background(), "", "ingest", "--dsn", dsn, "--file", file, "--batch-size", "500", "--json")
				if r.code != 0 {
					t.Fatalf("import %d: exit %d\n%s", i+1, r.code, r.stderr)
				}
				out := decodeIngest(t, r)
				if out.Inserted != want.inserted || out.Duplicates != want.duplicates {
					t.Errorf("import %d: inserted %d, duplicates %d; want %d and %d", i+1, out.Inserted, out.Duplicates, want.inserted, want.duplicates)
				}
			}
			if rows, distinct := heartRateCounts(t, dsn); rows != 2000 || distinct != 2000 {
				t.Errorf("heart_rate_metrics holds %d rows, %d distinct; want 2000", rows, distinct)
			}
		})
	}
}

// TestIngestConnectionLost: hmperf's backends terminated while an import
// waits in a batch end it with one line saying how many batches and rows
// were stored and that running it again is safe, and a non-zero exit; run
// again, the same command stores exactly the file's distinct rows.
//
// The input comes through a fifo: the first half is written and stored,
// then the test takes the key lock of heart_rate_metrics (idempotent.go)
// so the next batch waits inside its transaction, and terminates the
// import's backends there.
func TestIngestConnectionLost(t *testing.T) {
	t.Parallel()
	for name, layout := range noKeyLayouts(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dsn := layout(t)
			file := heartRatePayloadFile(t, dsn, 2000)
			payload, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			fifo := filepath.Join(filepath.Dir(file), "fifo.json")
			if err := syscall.Mkfifo(fifo, 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(binPath, "ingest", "--dsn", dsn, "--file", fifo, "--batch-size", "500")
			cmd.Env = cleanEnv()
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			half := bytes.Index(payload[len(payload)/2:], []byte(`{"`)) + len(payload)/2
			if _, err := w.Write(payload[:half]); err != nil {
				t.Fatal(err)
			}
			waitFor(t, dsn, "SELECT count(DISTINCT batch_no) >= 1 FROM hmperf.ingest_batch_stats")

			lock, err := pgx.Connect(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer lock.Close(ctx)
			if _, err := lock.Exec(ctx, "SELECT pg_advisory_lock($1::int, 'heart_rate_metrics'::regclass::oid::int)", int32(0x686d6b79)); err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(payload[half:]); err != nil {
				t.Fatal(err)
			}
			w.Close()
			waitFor(t, dsn, "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE application_name LIKE 'hmperf ingest%' AND wait_event = 'advisory')")
			var stored int64
			queryRow(t, dsn, "SELECT count(*) FROM heart_rate_metrics", &stored)
			dbExec(t, dsn, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'hmperf ingest%' AND datname = current_database()")
			err = cmd.Wait()
			if err == nil || strings.Count(stderr.String(), "\n") != 1 || strings.Contains(stderr.String(), "deallocate") ||
				!strings.Contains(stderr.String(), "running the same command again is safe") {
				t.Fatalf("ingest whose connection was terminated: %v, stderr:\n%s", err, stderr.String())
			}
			if _, err := lock.Exec(ctx, "SELECT pg_advisory_unlock_all()"); err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprintf("after %d batch(es) with %d rows", stored/500, stored); stored == 0 || !strings.Contains(stderr.String(), want) {
				t.Errorf("%d rows are stored; the message does not say %q:\n%s", stored, want, stderr.String())
			}

			r := runCmd(ctx, "", "ingest", "--dsn", dsn, "--file", file, "--batch-size", "500", "--json")
			if r.code != 0 {
				t.Fatalf("the same import again: exit %d\n%s", r.code, r.stderr)
			}
			if out := decodeIngest(t, r); out.Inserted != 2000-stored || out.Duplicates != stored {
				t.Errorf("the same import again: inserted %d, duplicates %d; want %d and %d", out.Inserted, out.Duplicates, 2000-stored, stored)
			}
			if rows, distinct := heartRateCounts(t, dsn); rows != 2000 || distinct != 2000 {
				t.Errorf("heart_rate_metrics holds %d rows, %d distinct; want 2000", rows, distinct)
			}
		})
	}
}

// waitFor polls the boolean query until it is true, for up to 30 s.
func waitFor(t *testing.T, dsn, query string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var ok bool
		queryRow(t, dsn, query, &ok)
		if ok {
			return
		}
	}
	t.Fatalf("still false after 30 s: %s", query)
}

// TestAdoptNamesMissingKeys: migrate adopt lists heart_rate_metrics, which
// has no unique key on (user_id, recorded_at), as a finding with the index
// that would enforce it, and creates no index on it.
func TestAdoptNamesMissingKeys(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewDB(t)
	pgtest.LoadSQLFile(t, dsn, filepath.Join("..", "..", "queries", "catalog", "testdata", "service_layout.sql"))
	r := runCmd(context.Background(), "", "migrate", "adopt", "--yes", "--dsn", dsn)
	if r.code != 0 {
		t.Fatalf("adopt: exit %d\n%s", r.code, r.stderr)
	}
	want := `finding: public.heart_rate_metrics has no unique key on (user_id, recorded_at)`
	index := `CREATE UNIQUE INDEX CONCURRENTLY "heart_rate_metrics_user_id_recorded_at_key" ON "public"."heart_rate_metrics" ("user_id", "recorded_at")`
	if strings.Count(r.stdout, "finding: ") != 1 || !strings.Contains(r.stdout, want) || !strings.Contains(r.stdout, index) ||
		!strings.Contains(r.stdout, "index idx_heart_rate_user_recorded serves the check") {
		t.Errorf("adopt output lacks the one finding %q with %q:\n%s", want, index, r.stdout)
	}
	var unique int
	queryRow(t, dsn, "SELECT count(*) FROM pg_index WHERE indrelid = 'heart_rate_metrics'::regclass AND indisunique AND NOT indisprimary", &unique)
	if unique != 0 {
		t.Errorf("adopt created %d unique index(es) on heart_rate_metrics", unique)
	}
}
