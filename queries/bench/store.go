package bench

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/queries"
)

// Result is one benchmark run: what was asked, what was measured, and the
// summaries computed from the measurements (always by Summarize, whether
// the run was just made or read back, so both give the same figures).
type Result struct {
	ID         int64              `json:"run_id"`
	StartedAt  time.Time          `json:"started_at"`
	FinishedAt time.Time          `json:"finished_at"`
	Tables     []string           `json:"tables"` // pair names
	Rows       int                `json:"rows"`
	Reps       int                `json:"reps"`
	Seed       uint64             `json:"seed"`
	Server     queries.ServerInfo `json:"server"`
	Setup      Setup              `json:"setup"`
	Auto       bool               `json:"auto_reps"` // Reps was chosen by --reps auto
	// SizesBefore is each benchmarked table's total size in bytes
	// (partitions and indexes included) when the run started.
	SizesBefore  map[string]int64 `json:"table_bytes_before"`
	Status       string           `json:"status"`
	Error        string           `json:"error,omitempty"`
	Measurements []Measurement    `json:"measurements"`
	Results      []VariantResult  `json:"results"`
	Comparisons  []Comparison     `json:"comparisons"`
}

// Keys under which hmperf's own facts of a run are kept in
// benchmark_runs.settings, beside the server settings, so a stored run says
// how to regenerate its rows and how they were written.
const (
	seedSetting    = "hmperf.seed"
	methodSetting  = "hmperf.method"
	commitSetting  = "hmperf.commit"
	scratchSetting = "hmperf.scratch"
	autoSetting    = "hmperf.auto_reps"
	sizePrefix     = "hmperf.bytes_before."
)

func insertRun(ctx context.Context, db queries.DBTX, r *Result) error {
	settings := maps.Clone(r.Server.Settings)
	if settings == nil {
		settings = map[string]string{}
	}
	settings[seedSetting] = strconv.FormatUint(r.Seed, 10)
	settings[methodSetting] = string(r.Setup.Method)
	settings[commitSetting] = strconv.FormatBool(r.Setup.Commit)
	settings[scratchSetting] = strconv.FormatBool(r.Setup.Scratch)
	settings[autoSetting] = strconv.FormatBool(r.Auto)
	for t, n := range r.SizesBefore {
		settings[sizePrefix+t] = strconv.FormatInt(n, 10)
	}
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
		UPDATE hmperf.benchmark_runs SET status = $2, error = $3, reps = $4, finished_at = clock_timestamp()
		 WHERE id = $1 RETURNING finished_at`, r.ID, r.Status, errText, r.Reps).Scan(&r.FinishedAt)
	if err != nil {
		return fmt.Errorf("bench: record the end of run %d: %w", r.ID, err)
	}
	return insertVerdicts(ctx, db, r)
}

// insertVerdicts stores the run's verdicts with their intervals, as printed,
// for readers in SQL (migration 0028's benchmark_verdicts).
func insertVerdicts(ctx context.Context, db queries.DBTX, r *Result) error {
	var tables, claims, units, verdicts, whys, methods []string
	var claimed, measured []float64
	var lows, highs []*float64
	var reps []int
	for _, c := range r.Comparisons {
		p, _ := PairNamed(c.Pair)
		for _, v := range c.Verdicts {
			tables, claims, units = append(tables, p.Tables[Original]), append(claims, v.Claim), append(units, v.Unit)
			verdicts, whys, methods = append(verdicts, string(v.Verdict)), append(whys, v.Why), append(methods, v.Method)
			claimed, measured = append(claimed, v.Claimed), append(measured, v.Measured)
			lows, highs, reps = append(lows, v.CILow), append(highs, v.CIHigh), append(reps, v.Reps)
		}
	}
	if len(claims) == 0 {
		return nil
	}
	_, err := db.Exec(ctx, `
		INSERT INTO hmperf.benchmark_verdicts (run_id, table_name, claim, claimed, unit, measured, ci_low, ci_high, method, reps, verdict, why)
		SELECT $1, t, c, cl, u, m, lo, hi, me, n, v, nullif(w, '')
		  FROM unnest($2::text[], $3::text[], $4::float8[], $5::text[], $6::float8[], $7::float8[], $8::float8[],
		              $9::text[], $10::int[], $11::text[], $12::text[]) AS x(t, c, cl, u, m, lo, hi, me, n, v, w)`,
		r.ID, tables, claims, claimed, units, measured, lows, highs, methods, reps, verdicts, whys)
	if err != nil {
		return fmt.Errorf("bench: store the verdicts of run %d: %w", r.ID, err)
	}
	return nil
}

// tableSizes is the total size of every variant table of the pairs.
func tableSizes(ctx context.Context, db queries.DBTX, pairs []string) (map[string]int64, error) {
	out := map[string]int64{}
	for _, name := range pairs {
		p, _ := PairNamed(name)
		for _, v := range Variants {
			var n int64
			err := db.QueryRow(ctx, `SELECT coalesce(sum(pg_total_relation_size(relid)), 0)::bigint
				FROM pg_partition_tree(to_regclass($1))`, pgx.Identifier{p.Tables[v]}.Sanitize()).Scan(&n)
			if err != nil {
				return nil, fmt.Errorf("bench: size of %s: %w", p.Tables[v], err)
			}
			out[p.Tables[v]] = n
		}
	}
	return out, nil
}

// ErrNoRuns is returned by Latest when no run is stored.
var ErrNoRuns = errors.New("no benchmark run stored yet")

// Latest reads back the most recent run (any status), with its measurements
// and summaries.
func Latest(ctx context.Context, db queries.DBTX) (*Result, error) {
	return latest(ctx, db, "")
}

// latestSQL finds the latest run of a status ($1; the empty string for any
// status). Claim runs (bench --claim) judge other claims than the pairs':
// the latest insert run is the latest run that is not one.
const latestSQL = `SELECT id, started_at FROM hmperf.benchmark_runs WHERE ($1 = '' OR status = $1) AND NOT settings ? '` + claimSetting + `'
	ORDER BY started_at DESC, id DESC LIMIT 1`

// RunKey tells one stored run from every other: its id and when it
// started (ids start again in a database made anew).
type RunKey struct {
	ID        int64
	StartedAt time.Time
}

// QueueLatestDone queues the read of the key of the most recent finished
// run into *key, the zero key when there is none, for a caller that sends
// it with other reads in one round trip. A finished run does not change:
// one read by ByID can be kept under its key.
func QueueLatestDone(b *pgx.Batch, key *RunKey) {
	b.Queue(latestSQL, StatusDone).QueryRow(func(row pgx.Row) error {
		err := row.Scan(&key.ID, &key.StartedAt)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			*key = RunKey{}
			return nil
		case err != nil:
			return fmt.Errorf("bench: latest run: %w", err)
		}
		return nil
	})
}

func latest(ctx context.Context, db queries.DBTX, status string) (*Result, error) {
	var id int64
	err := db.QueryRow(ctx, latestSQL, status).Scan(&id, nil)
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
	r.Results, r.Comparisons = Summarize(r.Measurements, r.Setup)
	return &r, nil
}

var runColumns = `SELECT id, started_at, coalesce(finished_at, 'epoch'::timestamptz), tables, rows, reps,
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
	}
	// Runs stored before methods existed were rolled-back COPYs.
	r.Setup = Setup{Method: MethodCopy}
	if m, ok := r.Server.Settings[methodSetting]; ok {
		r.Setup.Method = Method(m)
	}
	if _, ok := r.Server.Settings[claimSetting]; ok {
		r.Setup.Method = MethodClaim
	}
	r.Setup.Commit = r.Server.Settings[commitSetting] == "true"
	// Committed runs have always written scratch copies.
	r.Setup.Scratch = r.Server.Settings[scratchSetting] == "true" || r.Setup.Commit
	r.Auto = r.Server.Settings[autoSetting] == "true"
	for k, v := range r.Server.Settings {
		if n, ok := strings.CutPrefix(k, sizePrefix); ok {
			if r.SizesBefore == nil {
				r.SizesBefore = map[string]int64{}
			}
			r.SizesBefore[n], _ = strconv.ParseInt(v, 10, 64)
		}
		if strings.HasPrefix(k, "hmperf.") {
			delete(r.Server.Settings, k)
		}
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
