package ingest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"hmperf/engine"
	"hmperf/queries/ingest"
	"hmperf/queries/pgtest"
)

// serviceTables are the tables a sample ingest writes, users first.
var serviceTables = []string{"users", "heart_rate_metrics", "blood_pressure_metrics", "sleep_metrics", "workouts",
	"activity_metrics_v2", "nutrition_metrics", "symptoms"}

// servicePool is a database laid out as the ingest service lays out its
// own (../catalog/testdata/service_layout.sql), plus hmperf's ingest
// bookkeeping and sandbox schema, as adopting it would add.
func servicePool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	return adoptedPool(t, "../catalog/testdata/service_layout.sql")
}

// adoptedPool is a database loaded from file and adopted by hmperf.
func adoptedPool(t *testing.T, file string) *pgxpool.Pool {
	t.Helper()
	dsn := pgtest.NewDB(t)
	pgtest.LoadSQLFile(t, dsn, file)
	return adoptDSN(t, dsn)
}

func openIngester(t *testing.T, pool *pgxpool.Pool, target ingest.Target) (*ingest.Ingester, error) {
	t.Helper()
	return openWith(t, pool, ingest.Options{Target: target})
}

// openWith opens an ingester with opts, validating in the bulk-import
// context with the default rules and a cache.
func openWith(t *testing.T, pool *pgxpool.Pool, opts ingest.Options) (*ingest.Ingester, error) {
	t.Helper()
	cache, err := engine.NewCache(1000, time.Hour, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	opts.Context, opts.Cache = engine.ContextBulkImport, cache
	opts.Validator = engine.NewValidator(engine.DefaultRules(), engine.DefaultPolicy(), cache)
	return ingest.Open(context.Background(), pool, opts)
}

// recentGenerator generates records in the 30 days before now, which the
// layout's partitions cover.
func recentGenerator(t *testing.T) *engine.Generator {
	t.Helper()
	g, err := engine.NewGenerator(engine.GenConfig{Seed: 7, DupRate: 0.05, InvalidRate: 0.02, End: time.Now().UTC().Truncate(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func counts(t *testing.T, db *pgxpool.Pool, schema string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, name := range serviceTables {
		var n int64
		if err := db.QueryRow(context.Background(), "SELECT count(*) FROM "+pgx.Identifier{schema, name}.Sanitize()).Scan(&n); err != nil {
			t.Fatalf("count %s.%s: %v", schema, name, err)
		}
		out[name] = n
	}
	return out
}

// TestServiceLayoutLive: generated rows written to the service's own
// tables with --create-users land under the service's column names, with
// users given synthetic emails and named in the totals, and the database
// agrees with the totals table by table.
func TestServiceLayoutLive(t *testing.T) {
	pool := servicePool(t)
	in, err := openWith(t, pool, ingest.Options{Target: ingest.Live, CreateUsers: true})
	if err != nil {
		t.Fatal(err)
	}
	const n = 3000
	if err := ingest.RunSample(context.Background(), in, recentGenerator(t), n, 500, nil); err != nil {
		t.Fatal(err)
	}
	tot := in.Totals()
	checkAccounting(t, pool, tot, n)
	if tot.Rejected == 0 || tot.Inserted < n/2 {
		t.Errorf("inserted %d, rejected %d of %d: the generator's invalid records should be rejected, the rest stored", tot.Inserted, tot.Rejected, n)
	}
	got := counts(t, pool, "public")
	for _, name := range serviceTables[1:] {
		if bt := tot.ByType[name]; bt == nil || got[name] != bt.Inserted || bt.Inserted == 0 {
			t.Errorf("%s holds %d rows; totals %+v", name, got[name], bt)
		}
	}
	ctx := context.Background()
	var badEmail, devices, avgHR int64
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM users WHERE email <> 'hmperf-sample-' || id || '@example.invalid'`).Scan(&badEmail); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `SELECT count(source_device) FROM heart_rate_metrics`).Scan(&devices); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `SELECT count(average_heart_rate) FROM workouts`).Scan(&avgHR); err != nil {
		t.Fatal(err)
	}
	if tot.CreatedUsers == nil || int64(len(tot.CreatedUsers.IDs)) != got["users"] || tot.CreatedUsers.Table != "public.users" {
		t.Errorf("%d users in the table, created users named %+v", got["users"], tot.CreatedUsers)
	}
	if tot.ConstraintFailures != 0 {
		t.Errorf("%d constraint failures (%v): generated records the service refuses", tot.ConstraintFailures, tot.RejectsByReason)
	}
	if got["users"] == 0 || badEmail != 0 || devices == 0 || avgHR == 0 {
		t.Errorf("%d users (%d without the synthetic email), %d heart rates with a device, %d workouts with an average heart rate",
			got["users"], badEmail, devices, avgHR)
	}
	if tot.DroppedFields["public.heart_rate_metrics.heart_rate_variability"] == 0 {
		t.Errorf("dropped fields %v: heart-rate variability has no column and must be counted", tot.DroppedFields)
	}
	for f := range tot.DroppedFields {
		if strings.Contains(f, "source") || strings.Contains(f, "efficiency") || strings.Contains(f, "avg_heart_rate") {
			t.Errorf("%s counted as dropped, but the table has it under another name", f)
		}
	}
}

// TestServiceLayoutMissingColumn: a table lacking a field hmperf always has
// stops the run before anything is written, with one error naming it.
func TestServiceLayoutMissingColumn(t *testing.T) {
	pool := servicePool(t)
	if _, err := pool.Exec(context.Background(), "ALTER TABLE blood_pressure_metrics DROP COLUMN diastolic"); err != nil {
		t.Fatal(err)
	}
	for _, target := range []ingest.Target{ingest.Live, ingest.Sandbox} {
		_, err := openIngester(t, pool, target)
		if err == nil || !strings.Contains(err.Error(), "blood_pressure_metrics.diastolic: no such column") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: err = %v, want one line naming blood_pressure_metrics.diastolic", target, err)
		}
	}
	// New defers reading the catalogue to the first batch, which fails
	// the same way before its transaction writes anything.
	in := newIngester(t, pool, engine.DefaultPolicy(), engine.ContextBulkImport)
	if err := ingest.RunSample(context.Background(), in, recentGenerator(t), 500, 500, nil); err == nil || !strings.Contains(err.Error(), "diastolic") {
		t.Errorf("RunSample err = %v, want the missing column", err)
	}
	for name, n := range counts(t, pool, "public") {
		if n != 0 {
			t.Errorf("%s holds %d rows after a refused run", name, n)
		}
	}
	var batches int
	if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM hmperf.ingest_batch_stats").Scan(&batches); err != nil || batches != 0 {
		t.Errorf("%d batch stats rows (%v) after a refused run", batches, err)
	}
}

// TestServiceLayoutSandbox: generated rows go to the twins in
// hmperf_sandbox; the live tables, their sequences and their row counts are
// untouched, and the twins are partitioned as the live tables are.
func TestServiceLayoutSandbox(t *testing.T) {
	pool := servicePool(t)
	ctx := context.Background()
	// Something live to leave alone.
	if _, err := pool.Exec(ctx, `
		INSERT INTO users (id, email) VALUES ('00000000-0000-0000-0000-00000000000a', 'someone@example.com');
		INSERT INTO activity_metrics_v2 (user_id, recorded_at, step_count) VALUES ('00000000-0000-0000-0000-00000000000a', now() - interval '1 day', 10)`); err != nil {
		t.Fatal(err)
	}
	before := counts(t, pool, "public")
	var seqBefore int64
	if err := pool.QueryRow(ctx, "SELECT last_value FROM activity_metrics_v2_id_seq").Scan(&seqBefore); err != nil {
		t.Fatal(err)
	}
	in, err := openIngester(t, pool, ingest.Sandbox)
	if err != nil {
		t.Fatal(err)
	}
	const n = 2000
	if err := ingest.RunSample(ctx, in, recentGenerator(t), n, 500, nil); err != nil {
		t.Fatal(err)
	}
	tot := in.Totals()
	checkAccounting(t, pool, tot, n)
	if after := counts(t, pool, "public"); !mapsEqual(after, before) {
		t.Errorf("live row counts changed: before %v, after %v", before, after)
	}
	var seqAfter int64
	if err := pool.QueryRow(ctx, "SELECT last_value FROM activity_metrics_v2_id_seq").Scan(&seqAfter); err != nil || seqAfter != seqBefore {
		t.Errorf("live sequence moved from %d to %d (%v)", seqBefore, seqAfter, err)
	}
	box := counts(t, pool, "hmperf_sandbox")
	for _, name := range serviceTables[1:] {
		bt := tot.ByType["hmperf_sandbox."+name]
		if bt == nil || bt.Inserted == 0 || box[name] != bt.Inserted {
			t.Errorf("hmperf_sandbox.%s holds %d rows; totals %+v", name, box[name], bt)
		}
	}
	// The twins keep the live partitioning, one level or two, and gain a
	// DEFAULT partition where the live table has none.
	var twinned, liveParts int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_partition_tree('hmperf_sandbox.nutrition_metrics')`).Scan(&twinned); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_partition_tree('public.nutrition_metrics')`).Scan(&liveParts); err != nil {
		t.Fatal(err)
	}
	if twinned != liveParts+1 {
		t.Errorf("hmperf_sandbox.nutrition_metrics tree has %d relations, want the live %d plus a DEFAULT partition", twinned, liveParts)
	}

	// A second run reuses the twins.
	again, err := openIngester(t, pool, ingest.Sandbox)
	if err != nil {
		t.Fatalf("second sandbox run: %v", err)
	}
	if err := ingest.RunSample(ctx, again, recentGenerator(t), 100, 100, nil); err != nil {
		t.Fatal(err)
	}
}

func mapsEqual(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
