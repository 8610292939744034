package migrations_test

import (
	"testing"

	"github.com/jackc/pgx/v5"

	"hmperf/migrations"
	"hmperf/queries/pgtest"
)

// Objects hmperf's docs and the report it checks name.
var (
	namedTables = []string{
		"users", "heart_rate_metrics", "blood_pressure_metrics", "sleep_metrics", "workouts",
		"hmperf.partition_maintenance",
		"activity_metrics_v2", "activity_metrics_v2_default",
		"nutrition_metrics", "nutrition_metrics_default",
		"symptoms", "symptoms_default",
		"hmperf.ingest_batch_stats", "hmperf.ingest_rejections", "hmperf.benchmark_runs", "hmperf.benchmark_results",
		"nutrition_metrics_optimized", "nutrition_metrics_optimized_default",
		"nutrition_metrics_unconstrained", "nutrition_metrics_unconstrained_default",
		"symptoms_optimized", "symptoms_optimized_default",
		"symptoms_unconstrained", "symptoms_unconstrained_default",
		"index_creation_strategy", "deferred_index_creation",
		"activity_metrics_v2_optimized", "activity_metrics_v2_optimized_default",
		"activity_metrics_v2_unconstrained", "activity_metrics_v2_unconstrained_default",
		"constraint_performance_monitor", "constraint_alert_thresholds",
		"hmperf.constraint_performance_hourly",
	}
	namedViews = []string{
		"activity_metrics_v2_daily_summary", "nutrition_metrics_daily_summary",
		"symptoms_severity_summary", "symptoms_daily_summary",
		"index_creation_performance", "real_time_constraint_performance",
	}
	namedFunctions = []string{
		"update_updated_at_column()",
		"hmperf.create_monthly_partitions(regclass, integer, integer)",
		"hmperf.maintain_partitions()",
		"hmperf.partition_summary(regclass)",
		"create_activity_v2_monthly_partitions(integer, integer)",
		"analyze_activity_v2_performance()",
		"create_nutrition_monthly_partitions(integer, integer)",
		"analyze_nutrition_performance()",
		"create_symptoms_monthly_partitions(integer, integer)",
		"analyze_symptoms_performance()",
		"validate_nutrition_metrics_optimized()",
		"hmperf.benchmark_timed_insert(regclass, text, regclass, bigint, text)",
		"benchmark_nutrition_insert_performance(integer)",
		"migrate_symptoms_to_optimized()",
		"benchmark_symptoms_insert_performance(integer)",
		"hmperf.partition_index_name(regclass, text, text[])",
		"hmperf.enqueue_partition_indexes(regclass)",
		"auto_process_deferred_indexes()",
		"validate_activity_metrics_v2_optimized()",
		"benchmark_activity_constraint_performance(integer)",
		"hmperf.monitor_ingest_batch_stats()",
		"hmperf.monitor_benchmark_results()",
		"check_constraint_performance_alerts()",
	}
	namedDomains = []string{
		"positive_small_numeric", "vitamin_mcg", "mineral_mg",
		"energy_volume_numeric", "macronutrient_g", "trace_mineral_mg",
	}
	namedEnums = []string{"symptom_type_enum", "symptom_severity_enum"}
	// Tables that get monthly partitions <table>_YYYY_MM around now.
	partitionedTables = []string{
		"activity_metrics_v2", "activity_metrics_v2_optimized", "activity_metrics_v2_unconstrained",
		"nutrition_metrics", "nutrition_metrics_optimized", "nutrition_metrics_unconstrained",
		"symptoms", "symptoms_optimized", "symptoms_unconstrained",
	}
)

// checkNamedObjects asserts that every named object exists (present=true) or
// that none does (present=false).
func checkNamedObjects(t *testing.T, conn *pgx.Conn, present bool) {
	t.Helper()
	check := func(kind, name, sql string) {
		t.Helper()
		var ok bool
		if err := conn.QueryRow(testCtx(t), sql, name).Scan(&ok); err != nil {
			t.Fatalf("%s %s: %v", kind, name, err)
		}
		if ok != present {
			t.Errorf("%s %s: exists = %v, want %v", kind, name, ok, present)
		}
	}
	for _, n := range namedTables {
		check("table", n, `SELECT coalesce((SELECT relkind IN ('r', 'p') FROM pg_class WHERE oid = to_regclass($1)), false)`)
	}
	for _, n := range namedViews {
		check("view", n, `SELECT coalesce((SELECT relkind = 'v' FROM pg_class WHERE oid = to_regclass($1)), false)`)
	}
	for _, n := range namedFunctions {
		check("function", n, `SELECT to_regprocedure($1) IS NOT NULL`)
	}
	for _, n := range namedDomains {
		check("domain", n, `SELECT coalesce((SELECT typtype = 'd' FROM pg_type WHERE oid = to_regtype($1)), false)`)
	}
	for _, n := range namedEnums {
		check("enum", n, `SELECT coalesce((SELECT typtype = 'e' FROM pg_type WHERE oid = to_regtype($1)), false)`)
	}
	for _, n := range partitionedTables {
		// The current UTC month's partition, created by the migration.
		check("partition of "+n, n, `SELECT to_regclass($1 || to_char(now() AT TIME ZONE 'UTC', '_YYYY_MM')) IS NOT NULL`)
	}
}

// TestUpDownUp applies every migration to an empty database, reverts them
// all, applies them again, and requires the same schema both times; every
// named object exists after up and nothing is left after down.
func TestUpDownUp(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewDB(t)
	m := newMigrator(t, dsn, nil)
	conn := connect(t, dsn)

	if err := m.Up(); err != nil {
		t.Fatalf("first up: %v", err)
	}
	files, err := migrations.List(migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	st, err := m.Status()
	if err != nil {
		t.Fatal(err)
	}
	if last := files[len(files)-1].Version; st.Version != last || st.Dirty || st.Pending != 0 {
		t.Fatalf("after up: status %+v, want version %d, clean, nothing pending", st, last)
	}
	first := schemaSnapshot(t, conn)
	checkNamedObjects(t, conn, true)

	if err := m.DownAll(); err != nil {
		t.Fatalf("down all: %v", err)
	}
	checkNamedObjects(t, conn, false)
	residue := queryStrings(t, conn, `
		SELECT 'relation ' || relname FROM pg_class
		 WHERE relnamespace = 'public'::regnamespace
		UNION ALL
		SELECT 'function ' || proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace
		UNION ALL
		SELECT 'type ' || typname FROM pg_type WHERE typnamespace = 'public'::regnamespace
		UNION ALL
		SELECT 'schema ' || nspname FROM pg_namespace WHERE nspname LIKE 'hmperf%'`)
	if len(residue) > 0 {
		t.Errorf("left behind after down to zero: %v", residue)
	}

	if err := m.Up(); err != nil {
		t.Fatalf("second up: %v", err)
	}
	second := schemaSnapshot(t, conn)
	if !sameSnapshot(first, second) {
		t.Errorf("schema after up, down, up differs from the first up:\n%s", diffLines(first, second))
	}
}

// TestEveryStepDownUp checks each migration on its own: at version V, one step
// down then one step up gives back the same schema.
func TestEveryStepDownUp(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewDB(t)
	m := newMigrator(t, dsn, nil)
	conn := connect(t, dsn)
	files, err := migrations.List(migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if err := m.Goto(f.Version); err != nil {
			t.Fatalf("goto %d: %v", f.Version, err)
		}
		before := schemaSnapshot(t, conn)
		if err := m.Down(1); err != nil {
			t.Fatalf("down from %d: %v", f.Version, err)
		}
		if err := m.Goto(f.Version); err != nil {
			t.Fatalf("up again to %d: %v", f.Version, err)
		}
		after := schemaSnapshot(t, conn)
		if !sameSnapshot(before, after) {
			t.Errorf("%04d_%s: down then up changes the schema:\n%s", f.Version, f.Name, diffLines(before, after))
		}
	}
}
