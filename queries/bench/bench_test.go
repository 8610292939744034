package bench_test

import (
	"context"
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"hmperf/queries/bench"
	"hmperf/queries/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// setup returns a pool on a fresh migrated database.
func setup(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), pgtest.NewMigratedDB(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func TestGenerateIsDeterministic(t *testing.T) {
	anchor := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	for _, table := range []string{"nutrition", "symptoms", "activity"} {
		a, err := bench.Generate(table, 300, 7, anchor)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := bench.Generate(table, 300, 7, anchor)
		c, _ := bench.Generate(table, 300, 8, anchor)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: same seed gave different rows", table)
		}
		if reflect.DeepEqual(a.Rows, c.Rows) {
			t.Errorf("%s: different seeds gave the same rows", table)
		}
		if len(a.Rows) != 300 || len(a.Columns) != len(a.Rows[0]) {
			t.Errorf("%s: %d rows of %d values for %d columns", table, len(a.Rows), len(a.Rows[0]), len(a.Columns))
		}
	}
}

// dataRows counts the rows of every benchmarked table.
func dataRows(t *testing.T, pool *pgxpool.Pool) int64 {
	t.Helper()
	var total int64
	for _, p := range bench.Pairs {
		for _, table := range p.Tables {
			var n int64
			if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
				t.Fatal(err)
			}
			total += n
		}
	}
	return total
}

func TestSmallRun(t *testing.T) {
	pool := setup(t)
	ctx := context.Background()
	var progress []bench.Progress
	res, err := bench.Run(ctx, pool, bench.Options{Rows: 2000, Reps: 3, Seed: 1,
		Progress: func(p bench.Progress) { progress = append(progress, p) }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != bench.StatusDone || len(res.Measurements) != 27 || len(res.Results) != 9 || len(res.Comparisons) != 3 {
		t.Fatalf("status %s, %d measurements, %d results, %d comparisons", res.Status, len(res.Measurements), len(res.Results), len(res.Comparisons))
	}
	if len(progress) != 54 || progress[53].Step != 27 || progress[53].Steps != 27 || !progress[53].Done {
		t.Errorf("progress: %d reports, last %+v", len(progress), progress[len(progress)-1])
	}
	checkResults(t, res)
	checkComparisons(t, res)
	back, err := bench.ByID(ctx, pool, res.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, res) {
		t.Errorf("stored run reads back differently:\n got %+v\nwant %+v", back, res)
	}
	latest, err := bench.Latest(ctx, pool)
	if err != nil || latest.ID != res.ID {
		t.Errorf("Latest = %v, %v; want run %d", latest, err, res.ID)
	}
	if n := dataRows(t, pool); n != 0 {
		t.Errorf("%d rows left in the benchmarked tables", n)
	}
}

func checkResults(t *testing.T, res *bench.Result) {
	t.Helper()
	for _, r := range res.Results {
		var rps []float64
		for _, m := range res.Measurements {
			if m.Table == r.Table && m.Variant == r.Variant {
				rps = append(rps, m.RowsPerSec)
			}
		}
		if len(rps) != res.Reps || r.MinRPS <= 0 || r.MinRPS != slices.Min(rps) || r.MedianRPS != bench.Median(rps) || r.MaxRPS != slices.Max(rps) {
			t.Errorf("%s %s: min %g median %g max %g, want those of its %d measurements %v", r.Table, r.Variant, r.MinRPS, r.MedianRPS, r.MaxRPS, res.Reps, rps)
		}
		// Overhead is the median over repetitions of (t - t_floor)/t_floor,
		// recomputed here from the stored measurements. (An upper bound
		// would be arbitrary: with the COPY data encoded before the clock,
		// a table with validation triggers can take over twice its floor's
		// time.)
		if want := overheadFromMeasurements(res.Measurements, r.Table, r.Variant); !(r.OverheadPct > -100) || math.Abs(r.OverheadPct-want) > 1e-9 {
			t.Errorf("%s %s: overhead %g%%, want %g%% from the measurements", r.Table, r.Variant, r.OverheadPct, want)
		}
		if r.Variant == bench.Unconstrained && (r.OverheadPct != 0 || r.OverheadLow != nil) {
			t.Errorf("%s unconstrained overhead %g, want 0", r.Table, r.OverheadPct)
		}
	}
}

// overheadFromMeasurements is the median of (t - t_floor)/t_floor x 100
// over the repetitions of one table's variant.
func overheadFromMeasurements(ms []bench.Measurement, table string, v bench.Variant) float64 {
	secs := map[int]map[bench.Variant]float64{}
	for _, m := range ms {
		if m.Table == table {
			if secs[m.Rep] == nil {
				secs[m.Rep] = map[bench.Variant]float64{}
			}
			secs[m.Rep][m.Variant] = m.Seconds
		}
	}
	var over []float64
	for _, r := range secs {
		over = append(over, (r[v]-r[bench.Unconstrained])/r[bench.Unconstrained]*100)
	}
	return bench.Median(over)
}

// checkComparisons recomputes ratio_median as the median of the
// per-repetition ratios rps_optimized/rps_original, which is how it is
// defined, and the improvement from it.
func checkComparisons(t *testing.T, res *bench.Result) {
	t.Helper()
	for _, c := range res.Comparisons {
		rps := map[[2]any]float64{}
		for _, m := range res.Measurements {
			if m.Table == c.Pair {
				rps[[2]any{m.Variant, m.Rep}] = m.RowsPerSec
			}
		}
		var ratios []float64
		for rep := 1; rep <= res.Reps; rep++ {
			ratios = append(ratios, rps[[2]any{bench.Optimized, rep}]/rps[[2]any{bench.Original, rep}])
		}
		if want := bench.Median(ratios); c.RatioMedian != want {
			t.Errorf("%s: ratio_median %g, want median of per-rep ratios %g", c.Pair, c.RatioMedian, want)
		}
		if c.RatioMin != slices.Min(ratios) || c.RatioMax != slices.Max(ratios) {
			t.Errorf("%s: ratio spread %g..%g, want that of the per-rep ratios %v", c.Pair, c.RatioMin, c.RatioMax, ratios)
		}
		if math.Abs(c.MeasuredImprovementPct-(c.RatioMedian-1)*100) > 1e-9 || len(c.Verdicts) != 3 {
			t.Errorf("%s: improvement %g for ratio %g, %d verdicts", c.Pair, c.MeasuredImprovementPct, c.RatioMedian, len(c.Verdicts))
		}
	}
}

func TestCancelledRun(t *testing.T) {
	pool := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, err := bench.Run(ctx, pool, bench.Options{Tables: []string{"nutrition"}, Rows: 2000, Reps: 3,
		Progress: func(p bench.Progress) {
			if p.Step == 4 && !p.Done {
				cancel() // the fifth COPY starts with a cancelled context
			}
		}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	back, err := bench.ByID(context.Background(), pool, res.ID)
	if err != nil {
		t.Fatal(err)
	}
	if back.Status != bench.StatusCancelled || !strings.Contains(back.Error, "cancel") {
		t.Errorf("stored status %q error %q, want cancelled", back.Status, back.Error)
	}
	if len(back.Measurements) != 3 {
		t.Errorf("stored %d measurements, want the 3 of the finished repetition", len(back.Measurements))
	}
	if n := dataRows(t, pool); n != 0 {
		t.Errorf("%d rows left in the benchmarked tables after a cancelled run", n)
	}
}

func TestSummarize(t *testing.T) {
	m := func(v bench.Variant, rep int, secs float64) bench.Measurement {
		return bench.Measurement{Table: "nutrition", Variant: v, Rep: rep, Rows: 1000, Seconds: secs, RowsPerSec: 1000 / secs}
	}
	ms := []bench.Measurement{
		m(bench.Original, 1, 1), m(bench.Optimized, 1, 2), m(bench.Unconstrained, 1, 0.5),
		m(bench.Original, 2, 1), m(bench.Optimized, 2, 0.5), m(bench.Unconstrained, 2, 0.25),
		m(bench.Original, 3, 1), m(bench.Optimized, 3, 1), m(bench.Unconstrained, 3, 0.5),
		m(bench.Original, 4, 1), // an incomplete repetition is ignored
	}
	results, comps := bench.Summarize(ms, bench.Setup{Method: bench.MethodCopy})
	want := []bench.VariantResult{
		{Table: "nutrition", Variant: bench.Original, Reps: 3, MedianRPS: 1000, MinRPS: 1000, MaxRPS: 1000, OverheadPct: 100},
		{Table: "nutrition", Variant: bench.Optimized, Reps: 3, MedianRPS: 1000, MinRPS: 500, MaxRPS: 2000, OverheadPct: 100},
		{Table: "nutrition", Variant: bench.Unconstrained, Reps: 3, MedianRPS: 2000, MinRPS: 2000, MaxRPS: 4000, OverheadPct: 0},
	}
	if !reflect.DeepEqual(results, want) {
		t.Errorf("results\n got %+v\nwant %+v", results, want)
	}
	c := comps[0]
	// Three repetitions bound no 95% interval: every verdict that can be
	// judged is inconclusive.
	if c.RatioMedian != 1 || c.RatioMin != 0.5 || c.RatioMax != 2 || c.MeasuredImprovementPct != 0 || c.Verdict != bench.Inconclusive || c.CILow != nil {
		t.Errorf("comparison %+v", c)
	}
	for _, v := range c.Verdicts {
		if v.Claim == "overhead_pct" && (v.Measured != 100 || v.Verdict != bench.Inconclusive) {
			t.Errorf("overhead verdict %+v", v)
		}
	}
}

// TestSQLFunctions checks the migrations' benchmark_* functions: they time
// with clock_timestamp(), return each variant with its overhead against the
// unconstrained floor, and leave no rows behind.
func TestSQLFunctions(t *testing.T) {
	pool := setup(t)
	ctx := context.Background()
	for _, p := range bench.Pairs {
		t.Run(p.Name, func(t *testing.T) {
			fn, _ := bench.SQLFunction(p.Name)
			var body string
			if err := pool.QueryRow(ctx, "SELECT pg_get_functiondef($1::regproc)", fn).Scan(&body); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(body, "hmperf.benchmark_timed_insert(") {
				// The timing lives in the shared helper it calls.
				var helper string
				if err := pool.QueryRow(ctx, "SELECT pg_get_functiondef('hmperf.benchmark_timed_insert'::regproc)").Scan(&helper); err != nil {
					t.Fatal(err)
				}
				body += helper
			}
			if !strings.Contains(body, "clock_timestamp()") {
				t.Errorf("%s does not time with clock_timestamp()", fn)
			}
			res, err := bench.RunSQL(ctx, pool, p.Name, 500)
			if err != nil {
				t.Fatal(err)
			}
			checkSQLResults(t, p, res)
		})
	}
	if n := dataRows(t, pool); n != 0 {
		t.Errorf("%d rows left behind by the SQL benchmark functions", n)
	}
}

func checkSQLResults(t *testing.T, p bench.Pair, res []bench.SQLResult) {
	t.Helper()
	seen := map[bench.Variant]bool{}
	for _, r := range res {
		seen[r.Variant] = true
		if r.Table != p.Tables[r.Variant] || r.Rows != 500 || r.Seconds <= 0 {
			t.Errorf("%+v: want table %s, 500 rows, positive time", r, p.Tables[r.Variant])
		}
		if r.Variant == bench.Unconstrained {
			if r.OverheadPct != nil {
				t.Errorf("unconstrained overhead %v, want NULL", *r.OverheadPct)
			}
			continue
		}
		unc := res[slicesIndex(res, bench.Unconstrained)].Seconds
		if r.OverheadPct == nil || math.Abs(*r.OverheadPct-bench.Overhead(r.Seconds, unc)) > 1e-6 {
			t.Errorf("%s overhead %v, want (t - t_unconstrained)/t_unconstrained = %g", r.Variant, r.OverheadPct, bench.Overhead(r.Seconds, unc))
		}
	}
	if len(seen) != 3 {
		t.Errorf("variants %v, want original, optimized and unconstrained", seen)
	}
}

func slicesIndex(res []bench.SQLResult, v bench.Variant) int {
	for i, r := range res {
		if r.Variant == v {
			return i
		}
	}
	return 0
}

// TestRunOnServiceColumns: the original table with the service's device
// column name and a users table whose email is NOT NULL still benchmarks,
// and leaves no row behind, owners included.
func TestRunOnServiceColumns(t *testing.T) {
	pool := setup(t)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `ALTER TABLE users ALTER COLUMN email SET NOT NULL;
		ALTER TABLE nutrition_metrics RENAME COLUMN source TO source_device`); err != nil {
		t.Fatal(err)
	}
	res, err := bench.Run(ctx, pool, bench.Options{Tables: []string{"nutrition"}, Rows: 300, Reps: 1, Seed: 1})
	if err != nil || res.Status != bench.StatusDone || len(res.Measurements) != 3 {
		t.Fatalf("run: %v, %+v", err, res)
	}
	var users int64
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM users").Scan(&users); err != nil {
		t.Fatal(err)
	}
	if n := dataRows(t, pool); n != 0 || users != 0 {
		t.Errorf("%d data rows and %d users left behind", n, users)
	}
}
