package migrations_test

import (
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"

	"hmperf/queries/pgtest"
)

// TestBenchmarkFunctions: each benchmark_* function returns one row per
// variant with rows = n and a positive time, and leaves no rows behind (not
// even its user row); calling twice in one session works.
func TestBenchmarkFunctions(t *testing.T) {
	t.Parallel()
	conn := connect(t, pgtest.NewMigratedDB(t))
	const n = 300
	cases := []struct {
		fn     string
		tables []string // unconstrained, original, optimized
	}{
		{"benchmark_nutrition_insert_performance", []string{"nutrition_metrics_unconstrained", "nutrition_metrics", "nutrition_metrics_optimized"}},
		{"benchmark_symptoms_insert_performance", []string{"symptoms_unconstrained", "symptoms", "symptoms_optimized"}},
		{"benchmark_activity_constraint_performance", []string{"activity_metrics_v2_unconstrained", "activity_metrics_v2", "activity_metrics_v2_optimized"}},
	}
	variants := []string{"unconstrained", "original", "optimized"}
	users := queryInt(t, conn, `SELECT count(*) FROM users`)
	for _, c := range cases {
		for call := 0; call < 2; call++ {
			rows, err := conn.Query(testCtx(t), `SELECT table_name, variant, rows, seconds, rows_per_second, constraint_overhead_pct FROM `+c.fn+`($1)`, n)
			if err != nil {
				t.Fatalf("%s: %v", c.fn, err)
			}
			type result struct {
				table, variant string
				rows           int64
				seconds, rps   float64
				overhead       *float64
			}
			got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (result, error) {
				var x result
				err := r.Scan(&x.table, &x.variant, &x.rows, &x.seconds, &x.rps, &x.overhead)
				return x, err
			})
			if err != nil {
				t.Fatalf("%s: %v", c.fn, err)
			}
			if len(got) != 3 {
				t.Fatalf("%s returned %d rows, want 3", c.fn, len(got))
			}
			for i, r := range got {
				if r.table != c.tables[i] || r.variant != variants[i] {
					t.Errorf("%s row %d = %s/%s, want %s/%s", c.fn, i, r.table, r.variant, c.tables[i], variants[i])
				}
				if r.rows != n || r.seconds <= 0 || r.rps <= 0 {
					t.Errorf("%s %s: rows %d, seconds %g, rows/s %g; want %d rows and positive times", c.fn, r.variant, r.rows, r.seconds, r.rps, n)
				}
				if (r.overhead == nil) != (r.variant == "unconstrained") {
					t.Errorf("%s %s: overhead %v; want NULL exactly for the unconstrained row", c.fn, r.variant, r.overhead)
				}
				if r.overhead != nil {
					want := (r.seconds - got[0].seconds) / got[0].seconds * 100
					if d := *r.overhead - want; d > 1e-6 || d < -1e-6 {
						t.Errorf("%s %s: overhead %g, want (t - t_unconstrained)/t_unconstrained*100 = %g", c.fn, r.variant, *r.overhead, want)
					}
				}
			}
			for _, table := range c.tables {
				if left := queryInt(t, conn, `SELECT count(*) FROM `+table); left != 0 {
					t.Errorf("%s left %d rows in %s", c.fn, left, table)
				}
			}
		}
	}
	if after := queryInt(t, conn, `SELECT count(*) FROM users`); after != users {
		t.Errorf("the benchmarks left %d user rows behind", after-users)
	}
	if temp := queryInt(t, conn, `SELECT count(*) FROM pg_class WHERE relname LIKE 'hmperf\_bench\_%' AND relpersistence = 't'`); temp != 0 {
		t.Errorf("the benchmarks left %d temporary tables behind", temp)
	}
	if _, err := conn.Exec(testCtx(t), `SELECT * FROM benchmark_nutrition_insert_performance(0)`); err == nil || pgErr(err) == nil || pgErr(err).Code != pgerrcode.InvalidParameterValue {
		t.Errorf("n = 0: got %v, want invalid_parameter_value", err)
	}
}

// TestMigrateSymptomsToOptimized copies the rows not yet copied and counts them.
func TestMigrateSymptomsToOptimized(t *testing.T) {
	t.Parallel()
	conn := connect(t, pgtest.NewMigratedDB(t))
	exec(t, conn, `INSERT INTO users (id) VALUES ('00000000-0000-0000-0000-0000000000dd')`)
	exec(t, conn, `
		INSERT INTO symptoms (user_id, recorded_at, symptom_type, severity, duration_minutes, triggers) VALUES
		  ('00000000-0000-0000-0000-0000000000dd', '2024-05-01 10:00+00', 'headache', 'moderate', 30, '["screen"]'),
		  ('00000000-0000-0000-0000-0000000000dd', '2024-05-01 10:00+00', 'nausea', 'mild', NULL, NULL),
		  ('00000000-0000-0000-0000-0000000000dd', now() - interval '1 hour', 'irregular_heartbeat', 'severe', 5, NULL)`)
	if n := queryInt(t, conn, `SELECT migrate_symptoms_to_optimized()`); n != 3 {
		t.Errorf("first migration copied %d rows, want 3", n)
	}
	if n := queryInt(t, conn, `SELECT migrate_symptoms_to_optimized()`); n != 0 {
		t.Errorf("second migration copied %d rows, want 0", n)
	}
	exec(t, conn, `INSERT INTO symptoms (user_id, recorded_at, symptom_type) VALUES ('00000000-0000-0000-0000-0000000000dd', '2024-05-02 10:00+00', 'fever')`)
	if n := queryInt(t, conn, `SELECT migrate_symptoms_to_optimized()`); n != 1 {
		t.Errorf("third migration copied %d rows, want 1", n)
	}
	got := queryStrings(t, conn, `
		SELECT symptom_type::text, severity::text, coalesce(duration_minutes::text, '-'), coalesce(triggers::text, '-')
		  FROM symptoms_optimized ORDER BY recorded_at, symptom_type`)
	want := []string{
		"headache | moderate | 30 | [\"screen\"]",
		"nausea | mild | - | -",
		"fever | not_present | - | -",
		"irregular_heartbeat | severe | 5 | -",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("symptoms_optimized =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestDeferredIndexes: strategies queue (or build) indexes for new
// partitions, never duplicate a parent index, and
// auto_process_deferred_indexes builds queued ones, fails invalid jobs and
// waits for a deferred job's size threshold.
func TestDeferredIndexes(t *testing.T) {
	t.Parallel()
	conn := connect(t, pgtest.NewMigratedDB(t))

	// The seeded strategies describe the parent indexes: nothing to do.
	if n := queryInt(t, conn, `SELECT hmperf.enqueue_partition_indexes('nutrition_metrics_default')`); n != 0 {
		t.Errorf("seeded strategies queued or built %d indexes, want 0 (they exist through the parent)", n)
	}

	// lazy: queued for an existing partition and for every new one.
	exec(t, conn, `INSERT INTO index_creation_strategy (table_name, index_kind, strategy, index_columns)
	               VALUES ('nutrition_metrics', 'gin', 'lazy', ARRAY['raw_data'])`)
	if n := queryInt(t, conn, `SELECT hmperf.enqueue_partition_indexes('nutrition_metrics_default')`); n != 1 {
		t.Errorf("lazy strategy queued %d jobs, want 1", n)
	}
	if n := queryInt(t, conn, `SELECT hmperf.create_monthly_partitions('nutrition_metrics', 0, 5)`); n != 2 {
		t.Errorf("create_monthly_partitions created %d partitions, want 2", n)
	}
	if n := queryInt(t, conn, `SELECT count(*) FROM deferred_index_creation WHERE status = 'pending' AND method = 'gin'`); n != 3 {
		t.Errorf("%d pending gin jobs, want 3 (default partition + 2 new months)", n)
	}

	// immediate, for a kind the parent does not have: built at once.
	exec(t, conn, `INSERT INTO index_creation_strategy (table_name, index_kind, strategy, index_columns)
	               VALUES ('activity_metrics_v2', 'gin', 'immediate', ARRAY['raw_data'])`)
	if n := queryInt(t, conn, `SELECT hmperf.enqueue_partition_indexes('activity_metrics_v2_default')`); n != 1 {
		t.Errorf("immediate strategy built %d indexes, want 1", n)
	}
	if n := queryInt(t, conn, `SELECT count(*) FROM pg_indexes WHERE indexname = 'activity_metrics_v2_default_raw_data_gin'`); n != 1 {
		t.Errorf("the immediate index was not built")
	}

	// deferred with a threshold far above the partition's size: waits.
	exec(t, conn, `INSERT INTO index_creation_strategy (table_name, index_kind, strategy, size_threshold_bytes, index_columns)
	               VALUES ('symptoms', 'gin', 'deferred', 1099511627776, ARRAY['raw_data'])
	               ON CONFLICT (table_name, index_kind) DO UPDATE
	               SET strategy = EXCLUDED.strategy, size_threshold_bytes = EXCLUDED.size_threshold_bytes,
	                   index_columns = EXCLUDED.index_columns`)
	if n := queryInt(t, conn, `SELECT hmperf.enqueue_partition_indexes('symptoms_default')`); n != 1 {
		t.Errorf("deferred strategy queued %d jobs, want 1", n)
	}

	// An invalid job (unknown column) must fail, not build anything.
	exec(t, conn, `INSERT INTO deferred_index_creation (table_name, index_name, method, columns, strategy)
	               VALUES ('nutrition_metrics_default', 'hmperf_test_bad_idx', 'btree', ARRAY['no_such_column'], 'lazy')`)

	if n := queryInt(t, conn, `SELECT auto_process_deferred_indexes()`); n != 3 {
		t.Errorf("auto_process_deferred_indexes built %d indexes, want 3", n)
	}
	got := queryStrings(t, conn, `
		SELECT index_name, status, attempts, (duration_seconds IS NOT NULL), (index_size_bytes > 0), coalesce(error, '-')
		  FROM index_creation_performance ORDER BY id`)
	if len(got) != 5 {
		t.Fatalf("index_creation_performance has %d rows, want 5:\n%s", len(got), strings.Join(got, "\n"))
	}
	for _, line := range got {
		switch {
		case strings.HasPrefix(line, "hmperf_test_bad_idx"):
			if !strings.Contains(line, "| failed | 1 |") || !strings.Contains(line, "no_such_column") {
				t.Errorf("invalid job: %s; want failed with the unknown column named", line)
			}
		case strings.HasPrefix(line, "symptoms_default"):
			if !strings.Contains(line, "| pending | 0 |") {
				t.Errorf("deferred job below its threshold: %s; want still pending, no attempt", line)
			}
		default:
			if !strings.HasSuffix(line, "| done | 1 | true | true | -") {
				t.Errorf("lazy job: %s; want done with a duration and a size", line)
			}
		}
	}
	if n := queryInt(t, conn, `SELECT count(*) FROM pg_indexes WHERE indexname LIKE 'nutrition\_metrics\_%\_raw\_data\_gin'`); n != 3 {
		t.Errorf("%d raw_data GIN indexes on nutrition partitions, want 3", n)
	}
	if n := queryInt(t, conn, `SELECT auto_process_deferred_indexes()`); n != 0 {
		t.Errorf("a second run built %d indexes, want 0", n)
	}
}

// TestMonitoringFeedAndAlerts: ingest batch stats and benchmark results feed
// constraint_performance_monitor, the view buckets them by hour and
// check_constraint_performance_alerts fires for the data that should fire it.
func TestMonitoringFeedAndAlerts(t *testing.T) {
	t.Parallel()
	conn := connect(t, pgtest.NewMigratedDB(t))
	var hour time.Time
	if err := conn.QueryRow(testCtx(t), `SELECT date_trunc('hour', now())`).Scan(&hour); err != nil {
		t.Fatal(err)
	}
	at := func(hoursAgo int) time.Time { return hour.Add(-time.Duration(hoursAgo)*time.Hour + 5*time.Minute) }

	// Ingest into heart_rate_metrics: 10 rows of 100 refused by constraints
	// and a 10% cache hit
	// rate, in each of the last three hours; one multi-row statement.
	exec(t, conn, `
		INSERT INTO hmperf.ingest_batch_stats (run_id, batch_no, table_name, context, received, inserted, duplicates, rejected,
		                                constraint_failures, validation_rejected, unsupported, validate_ms, dedup_ms,
		                                write_ms, cache_hits, cache_misses, recorded_at)
		SELECT gen_random_uuid(), h, 'heart_rate_metrics', 'api', 100, 85, 5, 10, 10, 0, 0, 20, 5, 25, 10, 90, t
		  FROM unnest($1::timestamptz[]) WITH ORDINALITY AS x(t, h)`,
		[]time.Time{at(2), at(1), at(0)})
	// Older batches for workouts: breaching long ago only, must not fire.
	exec(t, conn, `
		INSERT INTO hmperf.ingest_batch_stats (run_id, batch_no, table_name, context, received, inserted, duplicates, rejected,
		                                constraint_failures, unsupported, recorded_at)
		VALUES (gen_random_uuid(), 1, 'workouts', 'api', 100, 50, 0, 50, 50, 0, $1)`, at(10))
	if n := queryInt(t, conn, `SELECT count(*) FROM constraint_performance_monitor WHERE source = 'ingest'`); n != 4 {
		t.Fatalf("%d ingest monitor rows, want 4 (one per batch)", n)
	}
	got := queryStrings(t, conn, `
		SELECT rows, seconds, failures, cache_hits, cache_misses, constraint_overhead_pct IS NULL
		  FROM constraint_performance_monitor WHERE table_name = 'heart_rate_metrics' LIMIT 1`)
	if want := "100 | 0.05 | 10 | 10 | 90 | true"; len(got) != 1 || got[0] != want {
		t.Errorf("ingest monitor row = %v, want [%s]", got, want)
	}

	// Benchmarks: the original first, its unconstrained baseline later (the
	// overhead is filled in), the optimized after the baseline.
	var run int64
	if err := conn.QueryRow(testCtx(t), `
		INSERT INTO hmperf.benchmark_runs (tables, rows, reps, server_version, status)
		VALUES ('{nutrition_metrics}', 1000, 1, '15', 'running') RETURNING id`).Scan(&run); err != nil {
		t.Fatal(err)
	}
	insertResult := func(variant string, seconds float64, when time.Time) {
		exec(t, conn, `
			INSERT INTO hmperf.benchmark_results (run_id, table_name, variant, rep, rows, seconds, rows_per_second, measured_at)
			VALUES ($1, 'nutrition_metrics', $2, 1, 1000, $3::float8, 1000 / $3::float8, $4)`, run, variant, seconds, when)
	}
	insertResult("original", 1.5, at(0))
	insertResult("unconstrained", 1, at(0))
	insertResult("optimized", 4, at(0))
	got = queryStrings(t, conn, `
		SELECT table_name, coalesce(constraint_overhead_pct::text, 'NULL')
		  FROM constraint_performance_monitor WHERE source = 'benchmark' ORDER BY source_ref`)
	// Labelled with the scratch copies they measured: a benchmark's
	// overhead (50% and 300% here, past both thresholds) is its run's
	// finding and fires nothing.
	want := []string{"hmperf_scratch.nutrition_metrics | 50", "hmperf_scratch.nutrition_metrics_unconstrained | NULL",
		"hmperf_scratch.nutrition_metrics_optimized | 300"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("benchmark monitor rows =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A benchmark sample under a live table's name is refused.
	if _, err := conn.Exec(testCtx(t), `INSERT INTO constraint_performance_monitor (table_name, source, rows, seconds, constraint_overhead_pct)
		VALUES ('nutrition_metrics', 'benchmark', 1000, 4, 80)`); err == nil {
		t.Error("a benchmark sample labelled as a live table was accepted")
	}
	// Overhead measured on the live table's own layout, breaching with a
	// gap: hours 4, 2, 1 (3 missing).
	for _, h := range []int{4, 2, 1} {
		exec(t, conn, `
			INSERT INTO constraint_performance_monitor (table_name, measured_at, source, rows, seconds, constraint_overhead_pct)
			VALUES ('nutrition_metrics_optimized', $1, 'trigger', 1000, 4, 80)`, at(h))
	}

	got = queryStrings(t, conn, `
		SELECT rows, failures, round(cache_hit_rate::numeric, 1)::text, round(rows_per_sec::numeric, 1)::text, round(ms_per_1000_rows::numeric, 1)::text
		  FROM real_time_constraint_performance
		 WHERE table_name = 'heart_rate_metrics' AND hour_bucket = $1`, hour)
	if want := "100 | 10 | 10.0 | 2000.0 | 500.0"; len(got) != 1 || got[0] != want {
		t.Errorf("real_time_constraint_performance for the current hour = %v, want [%s]", got, want)
	}

	type alert struct {
		name, severity, table string
		observed, threshold   float64
		since                 time.Time
		message               string
	}
	rows, err := conn.Query(testCtx(t), `SELECT * FROM check_constraint_performance_alerts()`)
	if err != nil {
		t.Fatal(err)
	}
	alerts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (alert, error) {
		var a alert
		err := r.Scan(&a.name, &a.severity, &a.table, &a.observed, &a.threshold, &a.since, &a.message)
		return a, err
	})
	if err != nil {
		t.Fatal(err)
	}
	type key struct{ name, table string }
	wantAlerts := map[key]struct {
		severity string
		since    time.Time
	}{
		{"constraint_overhead_critical", "nutrition_metrics_optimized"}: {"CRITICAL", hour.Add(-2 * time.Hour)},
		{"constraint_overhead_warning", "nutrition_metrics_optimized"}:  {"WARNING", hour.Add(-2 * time.Hour)},
		{"constraint_failures_warning", "heart_rate_metrics"}:           {"WARNING", hour.Add(-2 * time.Hour)},
		{"cache_hit_rate_low", "heart_rate_metrics"}:                    {"WARNING", hour.Add(-2 * time.Hour)},
	}
	seen := map[key]bool{}
	for _, a := range alerts {
		k := key{a.name, a.table}
		w, ok := wantAlerts[k]
		if !ok {
			t.Errorf("unexpected alert %+v", a)
			continue
		}
		seen[k] = true
		if a.severity != w.severity || !a.since.Equal(w.since) || a.message == "" {
			t.Errorf("alert %s on %s: severity %s, since %s; want %s since %s", a.name, a.table, a.severity, a.since, w.severity, w.since)
		}
	}
	for k := range wantAlerts {
		if !seen[k] {
			t.Errorf("alert %s on %s did not fire", k.name, k.table)
		}
	}

	// A DBA disables an alert: it no longer fires.
	exec(t, conn, `UPDATE constraint_alert_thresholds SET enabled = false WHERE metric = 'overhead_pct'`)
	if n := queryInt(t, conn, `SELECT count(*) FROM check_constraint_performance_alerts() WHERE alert_name LIKE 'constraint\_overhead%'`); n != 0 {
		t.Errorf("%d overhead alerts fired while disabled", n)
	}
}

// TestNoMonitoringOnInsertPath: the metric tables carry no trigger besides
// updated_at maintenance (core tables, UPDATE only) and the optimized tables'
// validation triggers; monitoring never writes per data row.
func TestNoMonitoringOnInsertPath(t *testing.T) {
	t.Parallel()
	conn := connect(t, pgtest.NewMigratedDB(t))
	got := queryStrings(t, conn, `
		SELECT DISTINCT CASE WHEN c.relnamespace = 'public'::regnamespace THEN '' ELSE 'hmperf.' END
		       || c.relname || ': ' || tg.tgname
		  FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid
		 WHERE NOT tg.tgisinternal AND c.relnamespace IN ('public'::regnamespace, 'hmperf'::regnamespace)
		   AND c.relispartition = false
		 ORDER BY 1`)
	want := []string{
		"activity_metrics_v2_optimized: validate_activity_metrics_v2_optimized",
		"blood_pressure_metrics: update_blood_pressure_metrics_updated_at",
		// The hourly rollup (0024) sits on the monitor table, one statement
		// trigger per kind of change, far from the metric tables.
		"constraint_performance_monitor: constraint_performance_rollup_delete",
		"constraint_performance_monitor: constraint_performance_rollup_insert",
		"constraint_performance_monitor: constraint_performance_rollup_update",
		"heart_rate_metrics: update_heart_rate_metrics_updated_at",
		"hmperf.benchmark_results: monitor_benchmark_results",
		"hmperf.ingest_batch_stats: monitor_ingest_batch_stats",
		// 0025's write_sampling_own_rows on ingest_batch_stats is gone
		// since 0032: ingest records its own writes in hmperf.own_writes.
		"nutrition_metrics_optimized: validate_nutrition_metrics_optimized",
		"sleep_metrics: update_sleep_metrics_updated_at",
		"workouts: update_workouts_updated_at",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("triggers =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
