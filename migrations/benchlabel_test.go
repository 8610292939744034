package migrations_test

import (
	"strings"
	"testing"

	"hmperf/queries/pgtest"
)

// TestBenchmarksNeverPage: at 0030 a benchmark's measured overhead fired the
// overhead alerts under the live table's name; 0031 relabels its samples
// with the scratch copies they measured (the hourly rollup follows), no
// alert fires for them, overhead measured on the live layout still fires,
// and the down migration gives back 0030's labels and functions exactly.
func TestBenchmarksNeverPage(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewDB(t)
	m := newMigrator(t, dsn, nil)
	conn := connect(t, dsn)
	if err := m.Goto(30); err != nil {
		t.Fatal(err)
	}
	functions := func() string {
		return strings.Join(queryStrings(t, conn, `SELECT pg_get_functiondef(p.oid) FROM pg_proc p
			WHERE p.proname IN ('check_constraint_performance_alerts', 'monitor_benchmark_results') ORDER BY p.proname`), "\n")
	}
	at30 := functions()
	// One repetition, measured now: 150% over the floor.
	exec(t, conn, `INSERT INTO hmperf.benchmark_runs (id, tables, rows, reps, server_version, status)
		OVERRIDING SYSTEM VALUE VALUES (1, '{nutrition_metrics}', 100, 1, 'test', 'done')`)
	exec(t, conn, `INSERT INTO hmperf.benchmark_results (run_id, table_name, variant, rep, rows, seconds, rows_per_second)
		VALUES (1, 'nutrition_metrics', 'original', 1, 100, 1, 100), (1, 'nutrition_metrics', 'unconstrained', 1, 100, 0.4, 250)`)
	alerts := func() []string {
		return queryStrings(t, conn, `SELECT alert_name, table_name FROM check_constraint_performance_alerts() ORDER BY 1, 2`)
	}
	hourly := func() []string {
		return queryStrings(t, conn, `SELECT table_name, samples FROM hmperf.constraint_performance_hourly ORDER BY 1`)
	}
	if got := alerts(); len(got) != 2 {
		t.Fatalf("at 0030 a benchmark's overhead fires %v, want both overhead alerts (the problem 0031 removes)", got)
	}

	if err := m.Goto(31); err != nil {
		t.Fatal(err)
	}
	if got := alerts(); len(got) != 0 {
		t.Errorf("after 0031 a benchmark's overhead still fires %v", got)
	}
	if got, want := strings.Join(hourly(), ", "), "hmperf_scratch.nutrition_metrics | 1, hmperf_scratch.nutrition_metrics_unconstrained | 1"; got != want {
		t.Errorf("hourly rollup after 0031: %s, want %s", got, want)
	}
	// The same overhead measured on the live table's own layout pages.
	exec(t, conn, `INSERT INTO constraint_performance_monitor (table_name, source, rows, seconds, constraint_overhead_pct)
		VALUES ('nutrition_metrics', 'trigger', 100, 1, 150)`)
	if got, want := strings.Join(alerts(), ", "), "constraint_overhead_critical | nutrition_metrics, constraint_overhead_warning | nutrition_metrics"; got != want {
		t.Errorf("live-layout overhead fires %s, want %s", got, want)
	}
	exec(t, conn, `DELETE FROM constraint_performance_monitor WHERE source = 'trigger'`)

	if err := m.Down(1); err != nil {
		t.Fatal(err)
	}
	if got := functions(); got != at30 {
		t.Errorf("0031 down does not restore 0030's functions:\n%s", diffLines(strings.Split(at30, "\n"), strings.Split(got, "\n")))
	}
	if got, want := strings.Join(hourly(), ", "), "nutrition_metrics | 1, nutrition_metrics_unconstrained | 1"; got != want {
		t.Errorf("hourly rollup after 0031 down: %s, want %s", got, want)
	}
	if got := queryInt(t, conn, `SELECT count(*) FROM constraint_alert_thresholds WHERE description LIKE '%live layout%'`); got != 0 {
		t.Errorf("%d threshold descriptions still 0031's after its down migration", got)
	}
}
