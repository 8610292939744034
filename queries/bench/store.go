package bench

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/queries"
)

// Result is one benchmark run: what was asked, what was measured, and the
// summaries computed from the measurements (always by Summarize, whether
// the run was just made or read back, so both give the same figures).
type Result struct {
	ID           int64              `json:"run_id"`
	StartedAt    time.Time          `json:"started_at"`
	FinishedAt   time.Time          `json:"finished_at"`
	Tables       []string           `json:"tables"` // pair names
	Rows         int                `json:"rows"`
	Reps         int                `json:"reps"`
	Seed         uint64             `json:"seed"`
	Server       queries.ServerInfo `json:"server"`
	Status       string             `json:"status"`
	Error        string             `json:"error,omitempty"`
	Measurements []Measurement      `json:"measurements"`
	Results      []VariantResult    `json:"results"`
	Comparisons  []Comparison       `json:"comparisons"`
}

// seedSetting is the key under which the generator seed is kept in
// benchmark_runs.settings, beside the server settings, so a stored run says
// how to regenerate its rows.
const seedSetting = "hmperf.seed"

func insertRun(ctx context.Context, db queries.DBTX, r *Result) error {
	settings := maps.Clone(r.Server.Settings)
	if settings == nil {
		settings = map[string]string{}
	}
	settings[seedSetting] = strconv.FormatUint(r.Seed, 10)
	originals := make([]string, len(r.Tables))
	for i, name := range r.Tables {
		p, _ := PairNamed(name)
		originals[i] = p.Tables[Original]
	}
	err := db.QueryRow(ctx, `
		INSERT INTO hmperf.benchmark_runs (id, tables, rows, reps, server_version, settings, status)
		OVERRIDING SYSTEM VALUE
		VALUES ($7, $1, $2, $3, $4, $5, $6) RETURNING id, started_at`,
		originals, r.Rows, r.Reps, r.Server.Version, settings, StatusRunning, r.ID).Scan(&r.ID, &r.StartedAt)
	if err != nil {
		return fmt.Errorf("bench: store the run: %w", err)
	}
	return nil
}

// insertResults stores measurements under the original table of their pair
// (benchmark_results.table_name names the family; variant names the twin).
func insertResults(ctx context.Context, db queries.DBTX, runID int64, ms []Measurement) error {
	var tables, variants []string
	var reps, rows []int
	var secs, rps []float64
	for _, m := range ms {
		p, _ := PairNamed(m.Table)
		tables, variants = append(tables, p.Tables[Original]), append(variants, string(m.Variant))
		reps, rows = append(reps, m.Rep), append(rows, m.Rows)
		secs, rps = append(secs, m.Seconds), append(rps, m.RowsPerSec)
	}
	_, err := db.Exec(ctx, `
		INSERT INTO hmperf.benchmark_results (run_id, table_name, variant, rep, rows, seconds, rows_per_second)
		SELECT $1, t, v, r, n, s, p
		  FROM unnest($2::text[], $3::text[], $4::int[], $5::int[], $6::float8[], $7::float8[]) AS u(t, v, r, n, s, p)`,
		runID, tables, variants, reps, rows, secs, rps)
	if err != nil {
		return fmt.Errorf("bench: store results of run %d: %w", runID, err)
	}
	return nil
}

func updateRun(ctx context.Context, db queries.DBTX, r *Result) error {
	var errText *string
	if r.Error != "" {
		errText = &r.Error
	}
	err := db.QueryRow(ctx, `
		UPDATE hmperf.benchmark_runs SET status = $2, error = $3, finished_at = clock_timestamp()
		 WHERE id = $1 RETURNING finished_at`, r.ID, r.Status, errText).Scan(&r.FinishedAt)
	if err != nil {
		return fmt.Errorf("bench: record the end of run %d: %w", r.ID, err)
	}
	return nil
}

// ErrNoRuns is returned by Latest when no run is stored.
var ErrNoRuns = errors.New("no benchmark run stored yet")

// Latest reads back the most recent run (any status), with its measurements
// and summaries.
func Latest(ctx context.Context, db queries.DBTX) (*Result, error) {
	var id int64
	err := db.QueryRow(ctx, "SELECT id FROM hmperf.benchmark_runs ORDER BY started_at DESC, id DESC LIMIT 1").Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNoRuns
	}
	if err != nil {
		return nil, fmt.Errorf("bench: latest run: %w", err)
	}
	return ByID(ctx, db, id)
}

// History lists the most recent runs, newest first, without their
// measurements (limit <= 0 means 50).
func History(ctx context.Context, db queries.DBTX, limit int) ([]Result, error) {
	if limit <= 0 {
		limit = 50
	}
	rows, err := db.Query(ctx, runColumns+" ORDER BY started_at DESC, id DESC LIMIT $1", limit)
	if err != nil {
		return nil, fmt.Errorf("bench: run history: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanRun)
	if err != nil {
		return nil, fmt.Errorf("bench: run history: %w", err)
	}
	return out, nil
}

// ByID reads back one run with its measurements and summaries.
func ByID(ctx context.Context, db queries.DBTX, id int64) (*Result, error) {
	rows, err := db.Query(ctx, runColumns+" WHERE id = $1", id)
	if err != nil {
		return nil, fmt.Errorf("bench: run %d: %w", id, err)
	}
	r, err := pgx.CollectExactlyOneRow(rows, scanRun)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("bench: no run with id %d", id)
	}
	if err != nil {
		return nil, fmt.Errorf("bench: run %d: %w", id, err)
	}
	if r.Measurements, err = readMeasurements(ctx, db, id); err != nil {
		return nil, err
	}
	r.Results, r.Comparisons = Summarize(r.Measurements)
	return &r, nil
}

const runColumns = `SELECT id, started_at, coalesce(finished_at, 'epoch'::timestamptz), tables, rows, reps,
	server_version, settings, ` + statusColumn + `, coalesce(error, '') FROM hmperf.benchmark_runs`

func scanRun(row pgx.CollectableRow) (Result, error) {
	var r Result
	var originals []string
	var finished time.Time
	err := row.Scan(&r.ID, &r.StartedAt, &finished, &originals, &r.Rows, &r.Reps,
		&r.Server.Version, &r.Server.Settings, &r.Status, &r.Error)
	if err != nil {
		return r, err
	}
	if finished.Unix() != 0 {
		r.FinishedAt = finished
	}
	for _, t := range originals {
		r.Tables = append(r.Tables, pairOfOriginal(t))
	}
	if s, ok := r.Server.Settings[seedSetting]; ok {
		r.Seed, _ = strconv.ParseUint(s, 10, 64)
		delete(r.Server.Settings, seedSetting)
	}
	return r, nil
}

// pairOfOriginal maps a stored family name (the original table) back to its
// pair name; an unknown name is kept as it is.
func pairOfOriginal(table string) string {
	for _, p := range Pairs {
		if p.Tables[Original] == table {
			return p.Name
		}
	}
	return table
}

func readMeasurements(ctx context.Context, db queries.DBTX, runID int64) ([]Measurement, error) {
	rows, err := db.Query(ctx, `
		SELECT table_name, variant, rep, rows, seconds, rows_per_second
		  FROM hmperf.benchmark_results WHERE run_id = $1 ORDER BY id`, runID)
	if err != nil {
		return nil, fmt.Errorf("bench: results of run %d: %w", runID, err)
	}
	ms, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Measurement, error) {
		var m Measurement
		var table, variant string
		err := row.Scan(&table, &variant, &m.Rep, &m.Rows, &m.Seconds, &m.RowsPerSec)
		m.Table, m.Variant = pairOfOriginal(table), Variant(variant)
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("bench: results of run %d: %w", runID, err)
	}
	return ms, nil
}
