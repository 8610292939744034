package migrations_test

import (
	"testing"

	"hmperf/queries/pgtest"
)

// directAggregation is 0023's view with 0027's columns: what the hourly
// rollup must reproduce.
const directAggregation = `
SELECT m.table_name, date_trunc('hour', m.measured_at), count(*), sum(m.rows)::bigint,
       round(sum(m.seconds)::numeric, 6), round(avg(m.constraint_overhead_pct)::numeric, 6),
       sum(m.failures)::bigint, round((100.0 * sum(m.cache_hits) / nullif(sum(m.cache_hits + m.cache_misses), 0))::numeric, 6),
       sum(m.validation_rejected)::bigint,
       round((100.0 * sum(m.validation_rejected) / nullif(sum(m.rows) FILTER (WHERE m.validation_rejected IS NOT NULL), 0))::numeric, 6),
       count(*) - count(m.failures)
  FROM constraint_performance_monitor m
 WHERE m.measured_at >= date_trunc('hour', now() - interval '48 hours')
 GROUP BY 1, 2 ORDER BY 1, 2`

const fromRollup = `
SELECT table_name, hour_bucket, samples, rows, round(seconds::numeric, 6), round(constraint_overhead_pct::numeric, 6),
       failures, round(cache_hit_rate::numeric, 6), validation_rejected, round(validation_rejection_rate::numeric, 6),
       failures_unobserved
  FROM real_time_constraint_performance ORDER BY 1, 2`

// TestRollupMatchesMonitor feeds the monitor through its real sources
// (ingest batch stats, benchmark results whose overhead arrives by a later
// update) and deletes some rows; the rolled-up view must equal a direct
// aggregation of the monitor rows after every step.
func TestRollupMatchesMonitor(t *testing.T) {
	t.Parallel()
	conn := connect(t, pgtest.NewMigratedDB(t))
	steps := []struct{ name, sql string }{
		{"ingest batches", `INSERT INTO hmperf.ingest_batch_stats (run_id, batch_no, table_name, context, received, inserted, duplicates,
		                     rejected, constraint_failures, validation_rejected, unsupported, validate_ms, dedup_ms, write_ms,
		                     cache_hits, cache_misses, recorded_at)
		    SELECT gen_random_uuid(), g, t, 'api', 100, 90, 5, 5, g % 3, 5 - g % 3, 0, 1, 1, 8 + g % 5, g % 7, 3,
		           now() - (g || ' minutes')::interval
		      FROM generate_series(0, 400) g, (VALUES ('heart_rate_metrics'), ('symptoms')) v(t)`},
		{"ingest batches stored before failures were counted", `INSERT INTO hmperf.ingest_batch_stats (run_id, batch_no, table_name,
		                     context, received, inserted, duplicates, rejected, unsupported, write_ms, recorded_at)
		    SELECT gen_random_uuid(), g, 'symptoms', 'api', 50, 50, 0, 0, 0, 3, now() - (g * 7 || ' minutes')::interval
		      FROM generate_series(0, 40) g`},
		{"a sample no failure count can be observed for", `INSERT INTO constraint_performance_monitor
		                     (table_name, source, rows, seconds) VALUES ('activity_metrics_v2', 'trigger', 5000, 2)`},
		{"benchmark run", `INSERT INTO hmperf.benchmark_runs (id, tables, rows, reps, server_version, status)
		    OVERRIDING SYSTEM VALUE VALUES (1, '{nutrition}', 100, 1, 'test', 'done')`},
		{"constrained results first", `INSERT INTO hmperf.benchmark_results (run_id, table_name, variant, rep, rows, seconds, rows_per_second)
		    VALUES (1, 'nutrition_metrics', 'original', 1, 100, 0.4, 250), (1, 'nutrition_metrics_optimized', 'optimized', 1, 100, 0.5, 200)`},
		{"unconstrained result updates their overhead", `INSERT INTO hmperf.benchmark_results (run_id, table_name, variant, rep, rows, seconds, rows_per_second)
		    VALUES (1, 'nutrition_metrics_unconstrained', 'unconstrained', 1, 100, 0.3, 333)`},
		{"retention delete", `DELETE FROM constraint_performance_monitor WHERE measured_at < now() - interval '5 hours'`},
		{"direct update", `UPDATE constraint_performance_monitor SET failures = failures + 1 WHERE table_name = 'symptoms'`},
		{"failures become unobservable", `UPDATE constraint_performance_monitor SET failures = NULL, validation_rejected = NULL
		    WHERE table_name = 'heart_rate_metrics' AND measured_at > now() - interval '90 minutes'`},
	}
	for _, step := range steps {
		if _, err := conn.Exec(testCtx(t), step.sql); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		want := queryStrings(t, conn, directAggregation)
		got := queryStrings(t, conn, fromRollup)
		if len(want) == 0 {
			t.Fatalf("%s: no monitor rows to compare", step.name)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: rollup has %d hours, monitor %d", step.name, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%s: hour %d\n rollup  %s\n monitor %s", step.name, i, got[i], want[i])
			}
		}
	}
}
