// Package scale builds a large dataset in hmperf's partitioned metric
// tables: many months of monthly partitions on every table
// hmperf.maintain_partitions() keeps, and generated rows in the base
// partitioned tables, written by the server itself (INSERT … SELECT over
// generate_series), so that hmperf's own costs can be measured at the size
// of a deployment that has run for years. It is for benchmarks and demos:
// the rows are synthetic and every one belongs to a user named scale-user-N.
package scale

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/queries"
)

// FillTables are the partitioned tables Fill writes rows to: the three base
// metric tables of migrations 0012-0014. Their twins (the *_optimized and
// *_unconstrained benchmark tables) get partitions but no rows.
var FillTables = []string{"activity_metrics_v2", "nutrition_metrics", "symptoms"}

// fillSQL is, per table, the INSERT … SELECT that writes rows g of
// generate_series(0, n-1) with n = $2 ($1 is 0): scale user $3 + g % $4,
// in month m = g * $5 / n of the $5 full months that start at $6, at slot
// g - first(m) of that month, $7 seconds apart, plus $8 microseconds. Each
// month gets a run of consecutive rows, so the server fills one partition
// (and its indexes) after another rather than all of them at once, and
// every month gets the same number of rows, give or take one. A month is
// never shorter than 28 days, and FillRows checks that the slots fit.
var fillSQL = map[string]string{
	"activity_metrics_v2": `INSERT INTO activity_metrics_v2 (user_id, recorded_at, step_count, active_energy_burned_kcal,
		       exercise_time_minutes, aggregation_period, source)
		SELECT ` + userExpr + `, ` + timeExpr + `, (g % 20000)::int, (g % 900)::numeric, (g % 120)::int, 'hourly', 'scale'
		  FROM generate_series($1::bigint, $2::bigint - 1) g, LATERAL (SELECT g * $5::bigint / $2::bigint AS m) mo`,
	"nutrition_metrics": `INSERT INTO nutrition_metrics (user_id, recorded_at, water_ml, energy_consumed_kcal, protein_g,
		       carbohydrates_g, aggregation_period, source)
		SELECT ` + userExpr + `, ` + timeExpr + `, (g % 4000)::numeric, (g % 5000)::numeric, (g % 300)::numeric,
		       (g % 600)::numeric, 'daily', 'scale'
		  FROM generate_series($1::bigint, $2::bigint - 1) g, LATERAL (SELECT g * $5::bigint / $2::bigint AS m) mo`,
	"symptoms": `INSERT INTO symptoms (user_id, recorded_at, symptom_type, severity, duration_minutes, source)
		SELECT ` + userExpr + `, ` + timeExpr + `,
		       (ARRAY['headache', 'fatigue', 'cough', 'nausea', 'joint_pain', 'insomnia'])[1 + g % 6],
		       (ARRAY['not_present', 'mild', 'moderate', 'severe'])[1 + g % 4], (g % 600)::int, 'scale'
		  FROM generate_series($1::bigint, $2::bigint - 1) g, LATERAL (SELECT g * $5::bigint / $2::bigint AS m) mo`,
}

const (
	userExpr = `md5('scale-user-' || ($3::bigint + g % $4::bigint))::uuid`
	timeExpr = `$6::timestamptz + make_interval(months => mo.m::int)
		       + make_interval(secs => (g - (mo.m * $2::bigint + $5::bigint - 1) / $5::bigint) * $7::bigint + $8::int * 0.000001)`
)

// monthSeconds is the shortest month: the slots of a month must fit in it.
const monthSeconds = 28 * 24 * 3600

// Tables returns the enabled partitioned tables hmperf.maintain_partitions()
// keeps, in its order.
func Tables(ctx context.Context, db queries.DBTX) ([]string, error) {
	rows, err := db.Query(ctx, `SELECT parent_table FROM hmperf.partition_maintenance WHERE enabled ORDER BY parent_table`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// SetMonths makes hmperf.maintain_partitions() keep months monthly
// partitions on every table it maintains: it keeps each table's months
// ahead and sets its months back to the rest (the current month counts
// once). It creates nothing itself: the next maintain_partitions() does.
func SetMonths(ctx context.Context, db queries.DBTX, months int) error {
	tag, err := db.Exec(ctx, `UPDATE hmperf.partition_maintenance SET months_back = $1::int - 1 - months_ahead
		 WHERE enabled AND $1::int - 1 - months_ahead >= 0`, months)
	if err != nil {
		return err
	}
	var enabled int64
	if err := db.QueryRow(ctx, `SELECT count(*) FROM hmperf.partition_maintenance WHERE enabled`).Scan(&enabled); err != nil {
		return err
	}
	if tag.RowsAffected() != enabled {
		return fmt.Errorf("scale: %d months leave no room for the months ahead of %d of %d tables",
			months, enabled-tag.RowsAffected(), enabled)
	}
	return nil
}

// Fill describes one call of FillRows.
type Fill struct {
	// Table is one of FillTables.
	Table string
	// Rows is how many rows to write.
	Rows int64
	// Users is how many scale users the rows go round (at least 1);
	// FirstUser is the number of the first. EnsureUsers creates them.
	FirstUser, Users int64
	// Months is how many full months, ending before the current one, the
	// rows are shared out to: every month gets the same number of rows,
	// give or take one.
	Months int
	// Micros is added to every timestamp: calls with different Micros
	// never write the same key, whatever their numbers.
	Micros int
}

// FillRows writes the rows f describes and returns how many it wrote.
func FillRows(ctx context.Context, db queries.DBTX, f Fill) (int64, error) {
	sql, ok := fillSQL[f.Table]
	if !ok {
		return 0, fmt.Errorf("scale: no row generator for table %q", f.Table)
	}
	n := f.Rows
	if n <= 0 {
		return 0, nil
	}
	if f.Months < 1 || f.Users < 1 || f.Micros < 0 || f.Micros >= 1_000_000 {
		return 0, fmt.Errorf("scale: fill needs months ≥ 1, users ≥ 1 and micros in [0, 1e6), got %d, %d, %d", f.Months, f.Users, f.Micros)
	}
	// The slots of the fullest month, one second apart at least, must end
	// within the shortest month.
	perMonth := (n + int64(f.Months) - 1) / int64(f.Months)
	spacing := monthSeconds / perMonth
	if spacing < 1 {
		return 0, fmt.Errorf("scale: %d rows do not fit in %d months one second apart", n, f.Months)
	}
	var start time.Time
	if err := db.QueryRow(ctx, `SELECT (date_trunc('month', now() AT TIME ZONE 'UTC') - make_interval(months => $1::int)) AT TIME ZONE 'UTC'`,
		f.Months).Scan(&start); err != nil {
		return 0, err
	}
	tag, err := db.Exec(ctx, sql, 0, n, f.FirstUser, f.Users, f.Months, start, spacing, f.Micros)
	if err != nil {
		return 0, fmt.Errorf("scale: fill %s: %w", f.Table, err)
	}
	return tag.RowsAffected(), nil
}

// EnsureUsers creates the scale users first..first+n-1 that do not exist
// yet (the metric tables' foreign key needs them).
func EnsureUsers(ctx context.Context, db queries.DBTX, first, n int64) error {
	_, err := db.Exec(ctx, `INSERT INTO users (id) SELECT md5('scale-user-' || u)::uuid
		  FROM generate_series($1::bigint, $1::bigint + $2::bigint - 1) u ON CONFLICT DO NOTHING`, first, n)
	return err
}
