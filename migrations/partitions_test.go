package migrations_test

import (
	"fmt"
	"strings"
	"testing"

	"hmperf/queries/pgtest"
)

// requiredColumns are the NOT NULL columns without default besides user_id
// and recorded_at.
func requiredColumns(table string) (cols, vals string) {
	if strings.HasPrefix(table, "symptoms") {
		return ", symptom_type", ", 'fever'"
	}
	return "", ""
}

// TestFarDatesInsert: rows dated 5 years back and 2 years ahead go into every
// partitioned table (the DEFAULT partition takes them).
// Exception, on purpose: symptoms and symptoms_optimized keep the original
// CHECK recorded_at <= now() + 1 day, so their far-future row is
// rejected by that CHECK -- never by partition routing.
func TestFarDatesInsert(t *testing.T) {
	t.Parallel()
	conn := connect(t, pgtest.NewMigratedDB(t))
	var user string
	if err := conn.QueryRow(testCtx(t), `INSERT INTO users DEFAULT VALUES RETURNING id::text`).Scan(&user); err != nil {
		t.Fatal(err)
	}
	futureRejectedBy := map[string]string{
		"symptoms":           "symptoms_recorded_at_check",
		"symptoms_optimized": "symptoms_optimized_recorded_at_check",
	}
	for _, table := range partitionedTables {
		cols, vals := requiredColumns(table)
		for _, when := range []string{"now() - interval '5 years'", "now() + interval '2 years'"} {
			sql := fmt.Sprintf(`INSERT INTO %s (user_id, recorded_at%s) VALUES ($1, %s%s) RETURNING tableoid::regclass::text`, table, cols, when, vals)
			var part string
			err := conn.QueryRow(testCtx(t), sql, user).Scan(&part)
			if want, ok := futureRejectedBy[table]; ok && strings.Contains(when, "+") {
				if pe := pgErr(err); pe == nil || pe.ConstraintName != want {
					t.Errorf("%s at %s: got %v, want a violation of %s", table, when, err, want)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s at %s: %v", table, when, err)
				continue
			}
			if part != table+"_default" {
				t.Errorf("%s at %s: row went to %s, want %s_default", table, when, part, table)
			}
		}
	}
}

// TestCreateMonthlyPartitionsMovesDefaultRows: creating a month whose rows
// already sit in the DEFAULT partition moves them into the new partition.
func TestCreateMonthlyPartitionsMovesDefaultRows(t *testing.T) {
	t.Parallel()
	conn := connect(t, pgtest.NewMigratedDB(t))
	if n := queryInt(t, conn, `SELECT hmperf.maintain_partitions()`); n != 0 {
		t.Errorf("hmperf.maintain_partitions() on a fresh database created %d partitions, want 0", n)
	}
	exec(t, conn, `INSERT INTO users (id) VALUES ('00000000-0000-0000-0000-0000000000aa')`)
	// Six UTC months ahead: beyond the 3 months the migration created.
	exec(t, conn, `
		INSERT INTO nutrition_metrics (user_id, recorded_at, water_ml)
		VALUES ('00000000-0000-0000-0000-0000000000aa',
		        (date_trunc('month', now() AT TIME ZONE 'UTC') + interval '6 months 1 day') AT TIME ZONE 'UTC', 1234)`)
	where := func() string {
		var s string
		if err := conn.QueryRow(testCtx(t), `SELECT tableoid::regclass::text FROM nutrition_metrics WHERE water_ml = 1234`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if got := where(); got != "nutrition_metrics_default" {
		t.Fatalf("row is in %s before, want nutrition_metrics_default", got)
	}
	// Months +4 .. +7 are new.
	if n := queryInt(t, conn, `SELECT hmperf.create_monthly_partitions('nutrition_metrics', 0, 7)`); n != 4 {
		t.Errorf("create_monthly_partitions created %d partitions, want 4", n)
	}
	var want string
	if err := conn.QueryRow(testCtx(t), `SELECT 'nutrition_metrics_' || to_char(date_trunc('month', now() AT TIME ZONE 'UTC') + interval '6 months', 'YYYY_MM')`).Scan(&want); err != nil {
		t.Fatal(err)
	}
	if got := where(); got != want {
		t.Errorf("row is in %s after, want %s", got, want)
	}
	if n := queryInt(t, conn, `SELECT count(*) FROM nutrition_metrics`); n != 1 {
		t.Errorf("nutrition_metrics has %d rows after the move, want 1", n)
	}
	if n := queryInt(t, conn, `SELECT create_nutrition_monthly_partitions(0, 7)`); n != 0 {
		t.Errorf("second call created %d partitions, want 0", n)
	}
	if n := queryInt(t, conn, `SELECT count(*) FROM pg_class WHERE relname = 'hmperf_partition_move'`); n != 0 {
		t.Errorf("the temporary move table was left behind")
	}
}

// TestPartitionIndexesOnlyFromParent: every index of every partition is the
// child of an index on its parent; none was added per partition.
func TestPartitionIndexesOnlyFromParent(t *testing.T) {
	t.Parallel()
	conn := connect(t, pgtest.NewMigratedDB(t))
	own := queryStrings(t, conn, `
		SELECT c.relname || ': ' || ic.relname
		  FROM pg_inherits p
		  JOIN pg_class c ON c.oid = p.inhrelid
		  JOIN pg_index i ON i.indrelid = c.oid
		  JOIN pg_class ic ON ic.oid = i.indexrelid
		 WHERE p.inhparent::regclass::text = ANY ($1)
		   AND NOT EXISTS (SELECT 1 FROM pg_inherits ii WHERE ii.inhrelid = i.indexrelid)`, partitionedTables)
	if len(own) > 0 {
		t.Errorf("indexes created per partition instead of on the parent: %v", own)
	}
	parts := queryInt(t, conn, `SELECT count(*) FROM pg_inherits WHERE inhparent::regclass::text = ANY ($1)`, partitionedTables)
	if want := int64(len(partitionedTables) * 6); parts != want {
		t.Errorf("%d partitions, want %d (5 months and a DEFAULT per table)", parts, want)
	}
}

// TestAnalyzeFunctions: partitions are matched exactly (the *_optimized and
// *_unconstrained tables are not counted) and the figures are real.
func TestAnalyzeFunctions(t *testing.T) {
	t.Parallel()
	conn := connect(t, pgtest.NewMigratedDB(t))
	exec(t, conn, `INSERT INTO users (id) VALUES ('00000000-0000-0000-0000-0000000000bb')`)
	exec(t, conn, `
		INSERT INTO nutrition_metrics (user_id, recorded_at, water_ml, protein_g) VALUES
		  ('00000000-0000-0000-0000-0000000000bb', now(), 500, NULL),
		  ('00000000-0000-0000-0000-0000000000bb', now() - interval '1 hour', 250, 30)`)
	exec(t, conn, `
		INSERT INTO symptoms (user_id, recorded_at, symptom_type, severity) VALUES
		  ('00000000-0000-0000-0000-0000000000bb', now() - interval '1 hour', 'fever', 'mild'),
		  ('00000000-0000-0000-0000-0000000000bb', now() - interval '2 hours', 'cough', 'mild'),
		  ('00000000-0000-0000-0000-0000000000bb', now() - interval '3 hours', 'cough', 'severe')`)

	got := queryStrings(t, conn, `SELECT partition_count, total_rows, avg_rows_per_partition, total_fields_with_data FROM analyze_nutrition_performance()`)
	if want := "6 | 2 | 0 | 2"; len(got) != 1 || got[0] != want {
		t.Errorf("analyze_nutrition_performance() = %v, want [%s]", got, want)
	}
	got = queryStrings(t, conn, `SELECT partition_count, total_rows, unique_symptoms_tracked, severity_distribution::text FROM analyze_symptoms_performance()`)
	if want := `6 | 3 | 2 | {"mild": 2, "severe": 1}`; len(got) != 1 || got[0] != want {
		t.Errorf("analyze_symptoms_performance() = %v, want [%s]", got, want)
	}
	got = queryStrings(t, conn, `SELECT table_name, partition_count, total_rows FROM analyze_activity_v2_performance()`)
	if want := "activity_metrics_v2 | 6 | 0"; len(got) != 1 || got[0] != want {
		t.Errorf("analyze_activity_v2_performance() = %v, want [%s]", got, want)
	}
}

// TestSummaryViewsDoNotDoubleCount: a day reported both as a daily total and
// in finer rows is counted once, from the daily row.
func TestSummaryViewsDoNotDoubleCount(t *testing.T) {
	t.Parallel()
	conn := connect(t, pgtest.NewMigratedDB(t))
	exec(t, conn, `INSERT INTO users (id) VALUES ('00000000-0000-0000-0000-0000000000cc')`)
	exec(t, conn, `
		INSERT INTO nutrition_metrics (user_id, recorded_at, water_ml, aggregation_period) VALUES
		  ('00000000-0000-0000-0000-0000000000cc', '2024-03-10 08:00+00', 500,  'meal'),
		  ('00000000-0000-0000-0000-0000000000cc', '2024-03-10 13:00+00', 700,  'meal'),
		  ('00000000-0000-0000-0000-0000000000cc', '2024-03-10 23:00+00', 2000, 'daily'),
		  ('00000000-0000-0000-0000-0000000000cc', '2024-03-11 08:00+00', 300,  'meal'),
		  ('00000000-0000-0000-0000-0000000000cc', '2024-03-11 12:00+00', 400,  'meal'),
		  ('00000000-0000-0000-0000-0000000000cc', '2024-03-12 12:00+00', 9999, 'weekly')`)
	got := queryStrings(t, conn, `
		SELECT nutrition_date::text, total_water_ml::text, total_entries, aggregation_periods_used::text
		  FROM nutrition_metrics_daily_summary ORDER BY nutrition_date`)
	want := []string{"2024-03-10 | 2000.00 | 1 | {daily}", "2024-03-11 | 700.00 | 2 | {meal}"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("nutrition_metrics_daily_summary =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	exec(t, conn, `
		INSERT INTO activity_metrics_v2 (user_id, recorded_at, step_count, aggregation_period) VALUES
		  ('00000000-0000-0000-0000-0000000000cc', '2024-03-10 08:00+00', 1000,  'hourly'),
		  ('00000000-0000-0000-0000-0000000000cc', '2024-03-10 09:00+00', 2000,  'hourly'),
		  ('00000000-0000-0000-0000-0000000000cc', '2024-03-10 12:00+00', 10000, 'daily'),
		  ('00000000-0000-0000-0000-0000000000cc', '2024-03-11 08:00+00', 1500,  'hourly'),
		  ('00000000-0000-0000-0000-0000000000cc', '2024-03-11 08:01+00', 77,    'minute')`)
	got = queryStrings(t, conn, `
		SELECT activity_date::text, total_steps, total_records, aggregation_periods_used::text
		  FROM activity_metrics_v2_daily_summary ORDER BY activity_date`)
	want = []string{"2024-03-10 | 10000 | 1 | {daily}", "2024-03-11 | 1500 | 1 | {hourly}"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("activity_metrics_v2_daily_summary =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
