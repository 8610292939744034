package bench

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"hmperf/queries"
)

// sqlFunctions are the report's server-side benchmark functions, per pair.
var sqlFunctions = map[string]string{
	"nutrition": "benchmark_nutrition_insert_performance",
	"symptoms":  "benchmark_symptoms_insert_performance",
	"activity":  "benchmark_activity_constraint_performance",
}

// SQLResult is one row of a benchmark_* SQL function: one variant timed
// server-side with clock_timestamp() in a single call (one repetition, no
// interleaving: the Go runner is the measurement hmperf reports).
type SQLResult struct {
	Table       string   `json:"table_name"`
	Variant     Variant  `json:"variant"`
	Rows        int64    `json:"rows"`
	Seconds     float64  `json:"seconds"`
	RowsPerSec  *float64 `json:"rows_per_second"`
	OverheadPct *float64 `json:"constraint_overhead_pct"` // NULL for unconstrained
}

// SQLFunction returns the name of the pair's benchmark SQL function.
func SQLFunction(pair string) (string, error) {
	fn, ok := sqlFunctions[pair]
	if !ok {
		return "", fmt.Errorf("no SQL benchmark function for %q", pair)
	}
	return fn, nil
}

// RunSQL calls the pair's benchmark SQL function with n rows. The function
// rolls its own inserts back.
func RunSQL(ctx context.Context, db queries.DBTX, pair string, n int) ([]SQLResult, error) {
	fn, err := SQLFunction(pair)
	if err != nil {
		return nil, err
	}
	rows, err := db.Query(ctx, `SELECT table_name, variant, rows, seconds, rows_per_second, constraint_overhead_pct
		FROM `+pgx.Identifier{fn}.Sanitize()+`($1)`, n)
	if err != nil {
		return nil, fmt.Errorf("%s(%d): %w", fn, n, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[SQLResult])
	if err != nil {
		return nil, fmt.Errorf("%s(%d): %w", fn, n, err)
	}
	return out, nil
}
