package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"hmperf/cmd/internal/dashsource"
	"hmperf/queries/pgtest"
)

// pollMethods are the dashboard's polls, one per panel, in tab order. A full
// poll cycle calls each once: what the dashboard does when a user visits
// every panel.
var pollMethods = []struct {
	name string
	poll func(ctx context.Context, s *dashsource.DB) error
}{
	{"Overview", func(ctx context.Context, s *dashsource.DB) error { _, err := s.Overview(ctx); return err }},
	{"Constraints", func(ctx context.Context, s *dashsource.DB) error { _, err := s.Constraints(ctx); return err }},
	{"Alerts", func(ctx context.Context, s *dashsource.DB) error { _, err := s.Alerts(ctx); return err }},
	{"Indexes", func(ctx context.Context, s *dashsource.DB) error { _, err := s.Indexes(ctx); return err }},
	{"Benchmarks", func(ctx context.Context, s *dashsource.DB) error { _, err := s.Benchmarks(ctx); return err }},
	{"Ingest", func(ctx context.Context, s *dashsource.DB) error { _, err := s.Ingest(ctx); return err }},
	{"Migrations", func(ctx context.Context, s *dashsource.DB) error { _, err := s.Migrations(ctx); return err }},
	{"Servers", pollServersOf},
}

// pollServersOf is the Servers panel's poll of the one server s reads (with
// several servers it reads each at once, so a cycle costs about the
// slowest). Its rates need the previous read, which one poll does not have;
// that changes no query.
func pollServersOf(ctx context.Context, s *dashsource.DB) error {
	got, err := dashsource.NewFleet([]string{"bench"}, []*dashsource.DB{s}).Servers(ctx)
	if err == nil && got[0].Err != "" {
		err = errors.New(got[0].Err)
	}
	return err
}

// pollCycle runs every poll once and adds each one's duration to spent.
func pollCycle(ctx context.Context, s *dashsource.DB, spent []time.Duration) error {
	// A new tick: the answers panels share within one tick (the alerts,
	// the schema status) are read afresh once, as on a real dashboard, not
	// carried over from the previous cycle a few milliseconds earlier.
	s.Forget()
	for i, m := range pollMethods {
		start := time.Now()
		if err := m.poll(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
		spent[i] += time.Since(start)
	}
	return nil
}

// seedPollData fills ingest_batch_stats with rows batches, in time order as
// the ingest writes them: all but rows/500 spread evenly over the past year
// (older than an hour), the rest in the last hour. The statement trigger
// copies each into constraint_performance_monitor; the function checks it
// did, then adds a stored benchmark run and a queued index job so that
// every panel has something to read. It analyzes the tables it filled, as
// autovacuum would after that many inserts, and only those: the 4-row
// constraint_alert_thresholds stays unanalyzed, as autovacuum leaves it (its
// threshold is 50 changed rows), and so the planner's estimates are the ones
// a real deployment gets.
func seedPollData(tb testing.TB, dsn string, rows int) {
	tb.Helper()
	recent := max(rows/500, 1)
	old := rows - recent
	dbExec(tb, dsn, `
		INSERT INTO hmperf.ingest_batch_stats (run_id, batch_no, table_name, context, received, inserted, duplicates,
		       rejected, unsupported, validate_ms, dedup_ms, write_ms, cache_hits, cache_misses, rejects_by_reason, recorded_at)
		SELECT md5((g / 1000)::text)::uuid, g % 1000,
		       (ARRAY['heart_rate_metrics', 'blood_pressure_metrics', 'sleep_metrics', 'workouts',
		              'activity_metrics_v2', 'nutrition_metrics', 'symptoms'])[1 + g % 7],
		       'api', 1000, 1000 - g % 13 - g % 5, g % 13, g % 5, 0,
		       1 + g % 7, 0.5, 5 + g % 11, 800 + g % 200, 200 - g % 200,
		       CASE WHEN g % 5 > 0 THEN jsonb_build_object('heart_rate: range [15, 300]', g % 5,
		                                                   'pulse: range [15, 300]', g % 3)
		            ELSE '{}' END,
		       CASE WHEN g <= $1::int THEN now() - interval '1 hour' - interval '365 days' * ($1 - g) / $1
		            ELSE now() - interval '1 hour' * ($1::int + $2::int - g) / $2::int END
		  FROM generate_series(1, $1::int + $2::int) g`, old, recent)
	var monitored int64
	queryRow(tb, dsn, "SELECT count(*) FROM constraint_performance_monitor WHERE source = 'ingest'", &monitored)
	if monitored != int64(rows) {
		tb.Fatalf("constraint_performance_monitor got %d rows from %d ingest batches", monitored, rows)
	}
	if r := runCmd(context.Background(), "", "bench", "--dsn", dsn, "--table", "symptoms", "--rows", "50", "--reps", "1"); r.code != 0 {
		tb.Fatalf("seed bench: exit %d: %s", r.code, r.stderr)
	}
	dbExec(tb, dsn, `CREATE TABLE poll_items AS SELECT g AS a FROM generate_series(1, 100) g;
		INSERT INTO deferred_index_creation (table_name, index_name, method, columns, strategy)
		VALUES ('poll_items', 'poll_items_a', 'btree', '{a}', 'lazy');
		ANALYZE hmperf.ingest_batch_stats, constraint_performance_monitor, hmperf.constraint_performance_hourly, hmperf.benchmark_runs, hmperf.benchmark_results`)
}

// pollSource opens the dashboard's data source on dsn the way runDashboard
// does (same pool settings).
func pollSource(tb testing.TB, dsn string) *dashsource.DB {
	tb.Helper()
	return pollSourceOf(tb, dsn, false, 10)
}

// pollSourceOf is pollSource, with --read-only when readOnly and a sample
// ingest of sampleRate records a second.
func pollSourceOf(tb testing.TB, dsn string, readOnly bool, sampleRate int) *dashsource.DB {
	tb.Helper()
	ctx := context.Background()
	tg, err := resolveTarget(ctx, connFlags{dsn: dsn, connectTimeout: 10 * time.Second}, io.Discard)
	if err != nil {
		tb.Fatal(err)
	}
	tg.ReadOnly = readOnly
	pool, err := tg.DashboardPool(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close)
	return newDBSource(tg, pool, dashboardOpts{benchRows: 50, benchReps: 1, sampleRate: sampleRate})
}

// TestPollCycle runs one full poll cycle on a small seeded database, so the
// code path BenchmarkPollCycle measures stays covered by `go test`, and
// checks that every panel gets the seeded data.
func TestPollCycle(t *testing.T) {
	dsn := pgtest.NewMigratedDB(t)
	seedPollData(t, dsn, 2000)
	src := pollSource(t, dsn)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	spent := make([]time.Duration, len(pollMethods))
	if err := pollCycle(ctx, src, spent); err != nil {
		t.Fatal(err)
	}
	ov, err := src.Overview(ctx)
	if err != nil || len(ov.Verdicts) == 0 || ov.PendingMigrations != 0 {
		t.Errorf("Overview: %+v, %v", ov, err)
	}
	var received float64
	for _, p := range ov.IngestRate {
		received += p.RowsPerSec
	}
	if received == 0 {
		t.Errorf("Overview ingest rate is all zero with batches in the last five minutes: %+v", ov.IngestRate)
	}
	if rows, err := src.Constraints(ctx); err != nil || len(rows) == 0 {
		t.Errorf("Constraints: %d rows, %v", len(rows), err)
	}
	st, err := src.Ingest(ctx)
	if err != nil || len(st.Batches) != 100 || len(st.Rejects) != 2 || st.CacheHits == 0 {
		t.Errorf("Ingest: %d batches, rejects %+v, cache hits %d, %v", len(st.Batches), st.Rejects, st.CacheHits, err)
	}
	if jobs, err := src.Indexes(ctx); err != nil || len(jobs) != 1 {
		t.Errorf("Indexes: %+v, %v", jobs, err)
	}
	// JIT off is what keeps the alert check cheap (see dashboardPool).
	tg, err := resolveTarget(ctx, connFlags{dsn: dsn, connectTimeout: 10 * time.Second}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := tg.DashboardPool(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var jit string
	if err := pool.QueryRow(ctx, "SHOW jit").Scan(&jit); err != nil || jit != "off" {
		t.Errorf("the dashboard pool's jit = %q, %v; want off", jit, err)
	}
}

// BenchmarkPollCycle measures the database time of one full poll cycle
// (every panel's poll once) with 1,000,000 ingest batches (and as many
// constraint-monitor rows) spread over a year, 2,000 of them in the last
// hour; HMPERF_POLL_ROWS changes the count. Seeding takes about half a
// minute. Target: 20 ms per cycle. It reports ms/cycle and each poll's ns.
//
//	go test ./cmd/hmperf -run '^$' -bench BenchmarkPollCycle -benchtime 50x
func BenchmarkPollCycle(b *testing.B) {
	rows := envInt(b, "HMPERF_POLL_ROWS", 1_000_000)
	dsn := pgtest.NewMigratedDB(b)
	seedPollData(b, dsn, rows)
	benchPollCycles(b, context.Background(), pollSource(b, dsn))
}

// benchPollCycles runs poll cycles for b's loop, after one warm-up cycle
// (the first fills the pool and the plan caches), and reports each poll's
// share and the whole cycle.
func benchPollCycles(b *testing.B, ctx context.Context, src *dashsource.DB) {
	spent := make([]time.Duration, len(pollMethods))
	if err := pollCycle(ctx, src, spent); err != nil {
		b.Fatal(err)
	}
	clear(spent)
	cycles := 0
	start := time.Now()
	for b.Loop() {
		if err := pollCycle(ctx, src, spent); err != nil {
			b.Fatal(err)
		}
		cycles++
	}
	elapsed := time.Since(start)
	for i, m := range pollMethods {
		b.ReportMetric(float64(spent[i].Nanoseconds())/float64(cycles), m.name+"-ns/op")
	}
	b.ReportMetric(float64(elapsed.Microseconds())/1000/float64(cycles), "ms/cycle")
}
