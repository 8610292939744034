// Package bench measures insert throughput of the original, optimized and
// unconstrained tables of the report's three pairs (nutrition, symptoms,
// activity), stores every run, and reads runs back for the CLI and the
// dashboard.
//
// Method, in short: the same N rows from the engine's seeded sample
// generator (Generate) are written into each variant's partitioned parent,
// repetitions interleaved original, optimized, unconstrained, after one
// small untimed warm-up write per variant. Every variant, the original
// included, is a scratch copy built from the live catalogue in a schema of
// the run's own (hmperf_scratch_<run id>) and dropped however the run ends,
// so a benchmark never writes, vacuums or analyzes the live tables, moves
// their sequences or adds users (scratch.go). By default (MethodCopy) each
// write is a binary COPY in a transaction rolled back after timing;
// MethodService writes as the ingest service does (chunked multi-row
// INSERT ... ON CONFLICT DO NOTHING) and, like any run with Commit,
// commits; MethodFunction calls the report's own benchmark_* functions with
// the scratch schema first on the search path. Dead tuples of rolled-back
// writes are vacuumed and committed rows truncated between repetitions (in
// the copies), so every repetition starts from the same table state. The
// clock is the client's monotonic clock around the write (and the COMMIT,
// when committing); creating the row owners is outside it, and so is
// encoding the COPY data, which is done once per variant before the first
// repetition (copyenc.go): pgx's numeric encoder is slower than the
// server's COPY, so inside the clock it timed the client, alike for every
// variant. Verdicts come from 95% order-statistic intervals of the paired
// per-repetition values (interval.go).
package bench

import "fmt"

// Variant is one of the three tables of a pair.
type Variant string

// The variants, in the order a repetition runs them.
const (
	Original      Variant = "original"
	Optimized     Variant = "optimized"
	Unconstrained Variant = "unconstrained"
)

// Variants lists the variants in run order.
var Variants = []Variant{Original, Optimized, Unconstrained}

// Claim is what the report's "Expected results" table says about a pair
// (seed-facts §6.5). None of it was measured; the benchmark checks it.
type Claim struct {
	ImprovementPct float64 `json:"improvement_pct"`
	OpsPerSec      float64 `json:"ops_per_sec"`
	OverheadPct    float64 `json:"overhead_pct"`
}

// Pair is one benchmarked table family.
type Pair struct {
	Name   string             // nutrition, symptoms, activity
	Tables map[Variant]string // variant → table
	Claim  Claim
}

// Pairs lists the three pairs in the report's order.
var Pairs = []Pair{
	{Name: "nutrition", Claim: Claim{65, 2850, 8}, Tables: map[Variant]string{
		Original: "nutrition_metrics", Optimized: "nutrition_metrics_optimized", Unconstrained: "nutrition_metrics_unconstrained"}},
	{Name: "symptoms", Claim: Claim{45, 1950, 12}, Tables: map[Variant]string{
		Original: "symptoms", Optimized: "symptoms_optimized", Unconstrained: "symptoms_unconstrained"}},
	{Name: "activity", Claim: Claim{42, 2100, 15}, Tables: map[Variant]string{
		Original: "activity_metrics_v2", Optimized: "activity_metrics_v2_optimized", Unconstrained: "activity_metrics_v2_unconstrained"}},
}

// PairNamed returns the pair called name.
func PairNamed(name string) (Pair, error) {
	for _, p := range Pairs {
		if p.Name == name {
			return p, nil
		}
	}
	return Pair{}, fmt.Errorf("unknown benchmark table %q (want nutrition, symptoms, activity or all)", name)
}

// ParseTables turns a --table value into pair names: "all" means every pair.
func ParseTables(s string) ([]string, error) {
	if s == "" || s == "all" {
		return []string{"nutrition", "symptoms", "activity"}, nil
	}
	if _, err := PairNamed(s); err != nil {
		return nil, err
	}
	return []string{s}, nil
}
