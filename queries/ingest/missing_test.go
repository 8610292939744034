package ingest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"hmperf/engine"
	"hmperf/queries/ingest"
)

// fixturePool is the project's fixture of the service's database
// (migrations/testdata/service_fixture.sql), adopted by hmperf.
func fixturePool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	return adoptedPool(t, "../../migrations/testdata/service_fixture.sql")
}

func execOn(t *testing.T, pool *pgxpool.Pool, sql string) {
	t.Helper()
	if _, err := pool.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// TestMissingTableUnsupported: a kind whose table does not exist at all is
// no error; its records are counted as unsupported under the table's name,
// in the totals and the stored stats, and the other kinds are written, to
// the live tables or to the sandbox (which gets no twin of the missing
// table).
func TestMissingTableUnsupported(t *testing.T) {
	for _, target := range []ingest.Target{ingest.Live, ingest.Sandbox} {
		t.Run(target.String(), func(t *testing.T) {
			pool := fixturePool(t)
			ctx := context.Background()
			execOn(t, pool, "DROP TABLE sleep_metrics")
			// With a sampler active, each batch's stats rows go through
			// the write-sampling trigger too.
			execOn(t, pool, "SELECT * FROM hmperf.sample_writes()")
			seedUsers(t, pool, 5)
			in, err := openIngester(t, pool, target)
			if err != nil {
				t.Fatalf("open with sleep_metrics missing: %v", err)
			}
			const n = 2000
			if err := ingest.RunSample(ctx, in, sampleGenerator(t, in), n, 500, nil); err != nil {
				t.Fatal(err)
			}
			tot := in.Totals()
			checkAccounting(t, pool, tot, n)
			sleep := tot.ByType["unsupported:sleep_metrics"]
			if sleep == nil || sleep.Received == 0 || sleep.Unsupported != sleep.Received ||
				tot.MissingTables["sleep_metrics"] != sleep.Unsupported || tot.Unsupported != sleep.Unsupported {
				t.Fatalf("sleep records: %+v, missing tables %v, unsupported %d", sleep, tot.MissingTables, tot.Unsupported)
			}
			var stored int64
			if err := pool.QueryRow(ctx, `SELECT coalesce(sum(unsupported), 0) FROM hmperf.ingest_batch_stats
				WHERE run_id = $1 AND table_name = 'unsupported:sleep_metrics'`, tot.RunID).Scan(&stored); err != nil || stored != sleep.Unsupported {
				t.Errorf("stored %d unsupported sleep records (%v), want %d", stored, err, sleep.Unsupported)
			}
			prefix := ""
			if target == ingest.Sandbox {
				prefix = "hmperf_sandbox."
			}
			if hr := tot.ByType[prefix+"heart_rate_metrics"]; hr == nil || hr.Inserted == 0 {
				t.Errorf("heart rates not written beside the missing table: %+v", hr)
			}
			var twin bool
			if err := pool.QueryRow(ctx, "SELECT to_regclass('hmperf_sandbox.sleep_metrics') IS NOT NULL").Scan(&twin); err != nil || twin {
				t.Errorf("a sandbox twin of the missing table exists: %v (%v)", twin, err)
			}
			if fk := tot.ForeignKeyCheck; strings.Contains(strings.Join(fk.Batch, ","), "sleep") {
				t.Errorf("foreign-key plan names the missing table: %+v", fk)
			}
		})
	}
}

// TestMissingColumnBesideMissingTable: on the same fixture, a column the
// engine always has a value for missing from a table that exists is still
// the one-line error before any write, whatever table is missing too.
func TestMissingColumnBesideMissingTable(t *testing.T) {
	pool := fixturePool(t)
	execOn(t, pool, "DROP TABLE sleep_metrics")
	execOn(t, pool, "ALTER TABLE blood_pressure_metrics DROP COLUMN diastolic")
	for _, target := range []ingest.Target{ingest.Live, ingest.Sandbox} {
		_, err := openIngester(t, pool, target)
		if err == nil || !strings.Contains(err.Error(), "blood_pressure_metrics.diastolic: no such column") ||
			strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "sleep_metrics") {
			t.Errorf("%s: err = %v, want one line naming blood_pressure_metrics.diastolic only", target, err)
		}
	}
	in := newIngester(t, pool, engine.DefaultPolicy(), engine.ContextBulkImport)
	if err := ingest.RunSample(context.Background(), in, recentGenerator(t), 500, 500, nil); err == nil || !strings.Contains(err.Error(), "diastolic") {
		t.Errorf("RunSample err = %v, want the missing column", err)
	}
	var rows, batches int64
	if err := pool.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM heart_rate_metrics),
		(SELECT count(*) FROM hmperf.ingest_batch_stats)`).Scan(&rows, &batches); err != nil || rows != 0 || batches != 0 {
		t.Errorf("%d rows, %d batch stats (%v) after a refused run", rows, batches, err)
	}
}

// TestMissingUsersTable: records without their users' table cannot be
// written at all: that is an error naming users, before any write.
func TestMissingUsersTable(t *testing.T) {
	pool := fixturePool(t)
	execOn(t, pool, "DROP TABLE users CASCADE")
	if _, err := openIngester(t, pool, ingest.Live); err == nil || !strings.Contains(err.Error(), "users") {
		t.Errorf("err = %v, want one naming users", err)
	}
}
