package monitor_test

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"hmperf/queries/bench"
	"hmperf/queries/monitor"
	"hmperf/queries/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func setup(t testing.TB) *pgxpool.Pool {
	t.Helper()
	dsn := pgtest.NewMigratedDB(t)
	// The tests count rolled-back rows, which an autovacuum landing in
	// their interval would make unknowable.
	pgtest.WithoutAutovacuum(t, dsn)
	pool, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// inTx runs fn in a transaction rolled back afterwards: now() is fixed
// inside it, so hour buckets and firing_since are exact.
func inTx(t *testing.T, pool *pgxpool.Pool, fn func(tx pgx.Tx)) {
	t.Helper()
	tx, err := pool.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	fn(tx)
}

func exec(t *testing.T, tx pgx.Tx, sql string, args ...any) {
	t.Helper()
	if _, err := tx.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// benchmarkRows stores one benchmark repetition per hour ago in hoursAgo,
// with the original taking secs and the unconstrained floor floor seconds:
// overhead (secs - floor)/floor.
func benchmarkRows(t *testing.T, tx pgx.Tx, secs, floor float64, hoursAgo ...int) {
	t.Helper()
	var run int64
	err := tx.QueryRow(context.Background(), `INSERT INTO hmperf.benchmark_runs (tables, rows, reps, server_version, status)
		VALUES ('{nutrition_metrics}', 1000, 1, 'test', 'done') RETURNING id`).Scan(&run)
	if err != nil {
		t.Fatal(err)
	}
	for i, h := range hoursAgo {
		exec(t, tx, `INSERT INTO hmperf.benchmark_results (run_id, table_name, variant, rep, rows, seconds, rows_per_second, measured_at)
			VALUES ($1, 'nutrition_metrics', 'original', $2, 1000, $3::float8, 1000 / $3::float8, now() - make_interval(hours => $4)),
			       ($1, 'nutrition_metrics', 'unconstrained', $2, 1000, $5::float8, 1000 / $5::float8, now() - make_interval(hours => $4))`,
			run, i+1, secs, h, floor)
	}
}

// liveOverhead stores one sample per hour ago in hoursAgo of constraint
// overhead pct measured on the live nutrition_metrics' own layout (source
// trigger: the service's writes, not a benchmark's scratch copies).
func liveOverhead(t *testing.T, tx pgx.Tx, pct float64, hoursAgo ...int) {
	t.Helper()
	for _, h := range hoursAgo {
		exec(t, tx, `INSERT INTO constraint_performance_monitor (table_name, measured_at, source, rows, seconds, constraint_overhead_pct)
			VALUES ('nutrition_metrics', now() - make_interval(hours => $1), 'trigger', 1000, 1, $2)`, h, pct)
	}
}

// batchStats stores one ingest batch hoursAgo hours ago: 100 rows inserted,
// refused rows PostgreSQL refused and invalid records the validator stopped.
func batchStats(t *testing.T, tx pgx.Tx, refused, invalid, hits, misses int, hoursAgo int) {
	t.Helper()
	exec(t, tx, `INSERT INTO hmperf.ingest_batch_stats (run_id, batch_no, table_name, context, received, inserted, duplicates,
		rejected, constraint_failures, validation_rejected, unsupported, write_ms, cache_hits, cache_misses, recorded_at)
		VALUES (gen_random_uuid(), 1, 'heart_rate_metrics', 'api', 100 + $1 + $2, 100, 0, $1 + $2, $1, $2, 0, 50, $3, $4,
		        now() - make_interval(hours => $5))`, refused, invalid, hits, misses, hoursAgo)
}

func TestAlertsFire(t *testing.T) {
	t.Parallel()
	pool := setup(t)
	type want struct {
		name     string
		severity monitor.Severity
		table    string
		observed float64
		since    int // hours before the current hour
	}
	cases := []struct {
		name  string
		setup func(t *testing.T, tx pgx.Tx)
		want  []want
	}{
		{"nothing", func(*testing.T, pgx.Tx) {}, nil},
		{"healthy data", func(t *testing.T, tx pgx.Tx) {
			benchmarkRows(t, tx, 1, 0.9, 0)
			batchStats(t, tx, 1, 1, 90, 10, 0)
		}, nil},
		// A benchmark's overhead is its run's finding: past both
		// thresholds for three hours, it fires nothing.
		{"benchmark overhead never pages", func(t *testing.T, tx pgx.Tx) { benchmarkRows(t, tx, 1.6, 1, 2, 1, 0) }, nil},
		{"overhead warning", func(t *testing.T, tx pgx.Tx) { liveOverhead(t, tx, 40, 2, 1, 0) },
			[]want{{"constraint_overhead_warning", monitor.Warning, "nutrition_metrics", 40, 2}}},
		{"overhead critical, run broken 3 hours ago", func(t *testing.T, tx pgx.Tx) {
			liveOverhead(t, tx, 10, 3)
			liveOverhead(t, tx, 60, 1, 0)
		}, []want{
			{"constraint_overhead_critical", monitor.Critical, "nutrition_metrics", 60, 1},
			{"constraint_overhead_warning", monitor.Warning, "nutrition_metrics", 60, 1},
		}},
		{"failures", func(t *testing.T, tx pgx.Tx) { batchStats(t, tx, 6, 0, 100, 0, 0) },
			[]want{{"constraint_failures_warning", monitor.Warning, "heart_rate_metrics", 6, 0}}},
		// Nine records stopped by the validator (8.3% of 109) are no
		// constraint failure and stay under the validation threshold.
		{"validation rejections are not constraint failures", func(t *testing.T, tx pgx.Tx) { batchStats(t, tx, 0, 9, 100, 0, 0) }, nil},
		{"validation rejection rate", func(t *testing.T, tx pgx.Tx) { batchStats(t, tx, 0, 25, 100, 0, 0) },
			[]want{{"validation_rejections_high", monitor.Warning, "heart_rate_metrics", 20, 0}}},
		{"old batches' failures are not observable", func(t *testing.T, tx pgx.Tx) {
			exec(t, tx, `INSERT INTO hmperf.ingest_batch_stats (run_id, batch_no, table_name, context, received, inserted, duplicates,
				rejected, unsupported, write_ms) VALUES (gen_random_uuid(), 1, 'heart_rate_metrics', 'api', 130, 100, 0, 30, 0, 50)`)
		}, nil},
		{"cache hit rate", func(t *testing.T, tx pgx.Tx) { batchStats(t, tx, 0, 0, 50, 50, 1) },
			[]want{{"cache_hit_rate_low", monitor.Warning, "heart_rate_metrics", 50, 1}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			inTx(t, pool, func(tx pgx.Tx) {
				c.setup(t, tx)
				got, err := monitor.Alerts(context.Background(), tx)
				if err != nil {
					t.Fatal(err)
				}
				var hour time.Time
				if err := tx.QueryRow(context.Background(), "SELECT date_trunc('hour', now())").Scan(&hour); err != nil {
					t.Fatal(err)
				}
				if len(got) != len(c.want) {
					t.Fatalf("got %d alerts %+v, want %d", len(got), got, len(c.want))
				}
				for i, w := range c.want {
					a := got[i]
					since := hour.Add(-time.Duration(w.since) * time.Hour)
					if a.Name != w.name || a.Severity != w.severity || a.Table != w.table ||
						math.Abs(a.Observed-w.observed) > 1e-9 || !a.FiringSince.Equal(since) || a.Message == "" {
						t.Errorf("alert %d = %+v, want %+v firing since %s", i, a, w, since)
					}
				}
			})
		})
	}
}

func TestWorst(t *testing.T) {
	w, c := monitor.Alert{Severity: monitor.Warning}, monitor.Alert{Severity: monitor.Critical}
	for _, tc := range []struct {
		in   []monitor.Alert
		want monitor.Severity
	}{{nil, ""}, {[]monitor.Alert{w}, monitor.Warning}, {[]monitor.Alert{w, c, w}, monitor.Critical}} {
		if got := monitor.Worst(tc.in); got != tc.want {
			t.Errorf("Worst(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestFeed proves constraint_performance_monitor is fed by inserts into
// ingest_batch_stats and benchmark_results (and by nothing on the metric
// tables), and that the hourly view reads it.
func TestFeed(t *testing.T) {
	t.Parallel()
	pool := setup(t)
	ctx := context.Background()
	res, err := bench.Run(ctx, pool, bench.Options{Tables: []string{"activity"}, Rows: 200, Reps: 2})
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	var maxDiff float64
	err = pool.QueryRow(ctx, `
		SELECT count(*), coalesce(max(abs(m.constraint_overhead_pct - (b.seconds - u.seconds) / u.seconds * 100)), 0)
		  FROM constraint_performance_monitor m
		  JOIN hmperf.benchmark_results b ON b.id = m.source_ref
		  JOIN hmperf.benchmark_results u ON u.run_id = b.run_id AND u.rep = b.rep AND u.variant = 'unconstrained'
		 WHERE m.source = 'benchmark' AND b.run_id = $1`, res.ID).Scan(&n, &maxDiff)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(res.Measurements)) || maxDiff > 1e-9 {
		t.Errorf("%d benchmark monitor rows for %d measurements, overhead off by %g", n, len(res.Measurements), maxDiff)
	}
	inTx(t, pool, func(tx pgx.Tx) {
		batchStats(t, tx, 2, 3, 30, 10, 0)
		hours, err := monitor.Recent(ctx, tx, 0)
		if err != nil {
			t.Fatal(err)
		}
		var found bool
		for _, h := range hours {
			if h.Table == "heart_rate_metrics" {
				found = h.Rows == 105 && eq(h.Failures, 2) && h.FailuresUnobserved == 0 && eq(h.ValidationRejected, 3) &&
					h.CacheHitRate != nil && *h.CacheHitRate == 75
			}
			if h.Table == "activity_metrics_v2" {
				t.Errorf("benchmark hour %+v under the live table's name; want it labelled hmperf_scratch.", h)
			}
			if h.Table == "hmperf_scratch.activity_metrics_v2" && !eq(h.Failures, 0) {
				t.Errorf("benchmark hour %+v: a completed benchmark observed 0 failures", h)
			}
		}
		if !found || len(hours) < 4 {
			t.Errorf("hours %+v: want the 3 activity variants and heart_rate_metrics (105 rows, 2 failures, 3 invalid, 75%% hits)", hours)
		}
	})
}

func TestThresholds(t *testing.T) {
	t.Parallel()
	th, err := monitor.Thresholds(context.Background(), setup(t))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, x := range th {
		names = append(names, x.Name)
	}
	want := []string{
		"cache_hit_rate_low", "connections_critical", "connections_warning", "constraint_failures_warning",
		"constraint_overhead_critical", "constraint_overhead_warning", "idle_in_transaction_critical", "idle_in_transaction_warning",
		"lock_wait_critical", "lock_wait_warning",
		"replication_lag_bytes_critical", "replication_lag_bytes_warning", "replication_lag_seconds_critical", "replication_lag_seconds_warning",
		"validation_rejections_high", "xid_wraparound_critical", "xid_wraparound_warning",
	}
	if !slices.Equal(names, want) {
		t.Errorf("thresholds %v, want the report's 4, the replication lag's 4, validation_rejections_high and the 8 of what blocks ingest (0037): %v", names, want)
	}
}

func eq(p *int64, v int64) bool { return p != nil && *p == v }

// TestFeedOverhead runs the monitoring-overhead measurement at a small size
// (the figure itself is reported by BenchmarkFeedOverhead and `hmperf bench
// --monitoring-overhead`; no timing is asserted here): it reports every
// batch, its derived shares are computed from its medians, the triggers'
// share is there whenever the role may skip triggers, and its rolled-back
// batches leave no row behind. How the samples are reduced is checked on
// known numbers by TestSummarizeFeed.
func TestFeedOverhead(t *testing.T) {
	t.Parallel()
	pool := setup(t)
	ctx := context.Background()
	counts := func() [3]int64 {
		var n [3]int64
		for i, tbl := range []string{"activity_metrics_v2", "hmperf.ingest_batch_stats", "constraint_performance_monitor"} {
			if err := pool.QueryRow(ctx, "SELECT count(*) FROM "+tbl).Scan(&n[i]); err != nil {
				t.Fatal(err)
			}
		}
		return n
	}
	before := counts()
	o, err := bench.MeasureFeedOverhead(ctx, pool, bench.FeedOptions{Batches: 4, BatchSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	if o.Batches != 4 || o.BatchSize != 100 || o.MedianWithMs <= 0 || o.MedianNoneMs <= 0 || o.FeedMs <= 0 {
		t.Errorf("overhead %+v: want 4 batches of 100 and positive times", o)
	}
	if o.FeedPct != o.FeedMs/o.MedianNoneMs*100 {
		t.Errorf("feed share %v%%, want %v ms of %v ms", o.FeedPct, o.FeedMs, o.MedianNoneMs)
	}
	if after := counts(); after != before {
		t.Errorf("rows (activity, batch stats, monitor) %v before, %v after: the measurement left rows behind", before, after)
	}
	// The project's test cluster runs as a superuser, which may write the
	// stats row without its triggers; under HMPERF_TEST_DSN it may not.
	var super bool
	if err := pool.QueryRow(ctx, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user").Scan(&super); err != nil {
		t.Fatal(err)
	}
	if super != (o.TriggersMs != nil) || super != (o.TriggersPct != nil) {
		t.Fatalf("superuser %v, triggers' share %v ms (%v%%): want it exactly when triggers can be skipped", super, o.TriggersMs, o.TriggersPct)
	}
	if super && *o.TriggersPct != *o.TriggersMs/o.MedianNoneMs*100 {
		t.Errorf("triggers' share %v%%, want %v ms of %v ms", *o.TriggersPct, *o.TriggersMs, o.MedianNoneMs)
	}
}

// BenchmarkFeedOverhead reports what feeding constraint_performance_monitor
// costs an ingest batch of 1000 activity rows, as the metric overhead-%:
//
//	go test ./queries/monitor -run '^$' -bench FeedOverhead -benchtime 1x
func BenchmarkFeedOverhead(b *testing.B) {
	pool := setup(b)
	for b.Loop() {
		o, err := bench.MeasureFeedOverhead(context.Background(), pool, bench.FeedOptions{Batches: 100, BatchSize: 1000})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(o.OverheadPct, "overhead-%")
		b.ReportMetric(o.FeedPct, "feed-%")
		if o.TriggersPct != nil {
			b.ReportMetric(*o.TriggersPct, "triggers-%")
		}
		b.ReportMetric(o.MedianNoneMs, "ms/batch")
		b.ReportMetric(o.MedianWithMs, "ms/batch+feed")
	}
}
