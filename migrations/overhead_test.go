package migrations_test

import (
	"testing"

	"hmperf/queries/pgtest"
)

// TestOverheadDefinition: 0028 turns the benchmark samples already stored
// with (t − u)/t into (t − u)/u, new samples arrive with (t − u)/u, and its
// down migration converts them all back.
func TestOverheadDefinition(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewDB(t)
	m := newMigrator(t, dsn, nil)
	conn := connect(t, dsn)
	if err := m.Goto(27); err != nil {
		t.Fatal(err)
	}
	exec(t, conn, `INSERT INTO hmperf.benchmark_runs (id, tables, rows, reps, server_version, status)
		OVERRIDING SYSTEM VALUE VALUES (1, '{nutrition_metrics}', 100, 1, 'test', 'done')`)
	// t = 1 s against a floor of 0.5 s: 50% of t, 100% of the floor.
	exec(t, conn, `INSERT INTO hmperf.benchmark_results (run_id, table_name, variant, rep, rows, seconds, rows_per_second)
		VALUES (1, 'nutrition_metrics', 'original', 1, 100, 1, 100), (1, 'nutrition_metrics', 'unconstrained', 1, 100, 0.5, 200)`)
	overhead := func() []string {
		return queryStrings(t, conn, `SELECT round(constraint_overhead_pct::numeric, 6)::text FROM constraint_performance_monitor
			WHERE constraint_overhead_pct IS NOT NULL ORDER BY id`)
	}
	check := func(step string, want ...string) {
		t.Helper()
		if got := overhead(); len(got) != len(want) || got[0] != want[0] || (len(want) > 1 && got[1] != want[1]) {
			t.Errorf("%s: overheads %v, want %v", step, got, want)
		}
	}
	check("at 27", "50.000000")
	if err := m.Goto(28); err != nil {
		t.Fatal(err)
	}
	check("after 0028", "100.000000")
	exec(t, conn, `INSERT INTO hmperf.benchmark_results (run_id, table_name, variant, rep, rows, seconds, rows_per_second)
		VALUES (1, 'nutrition_metrics', 'original', 2, 100, 1.5, 66), (1, 'nutrition_metrics', 'unconstrained', 2, 100, 1, 100)`)
	check("a new sample", "100.000000", "50.000000")
	if err := m.Down(1); err != nil {
		t.Fatal(err)
	}
	check("after 0028 down", "50.000000", "33.333333")
}
