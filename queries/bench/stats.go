package bench

import (
	"fmt"
	"slices"
)

// Measurement is one timed COPY: one variant, one repetition.
type Measurement struct {
	Table      string  `json:"table"` // pair name
	Variant    Variant `json:"variant"`
	Rep        int     `json:"rep"` // 1-based
	Rows       int     `json:"rows"`
	Seconds    float64 `json:"seconds"`
	RowsPerSec float64 `json:"rows_per_second"`
}

// VariantResult summarises one variant of one pair over its repetitions.
type VariantResult struct {
	Table     string  `json:"table"`
	Variant   Variant `json:"variant"`
	MedianRPS float64 `json:"median_rows_per_sec"`
	MinRPS    float64 `json:"min_rows_per_sec"`
	MaxRPS    float64 `json:"max_rows_per_sec"`
	// OverheadPct is the median over repetitions of (t − t_unconstrained)/t
	// in percent, t and t_unconstrained from the same repetition; 0 for the
	// unconstrained variant itself.
	OverheadPct float64 `json:"constraint_overhead_pct"`
}

// Verdict sets one claim of the report against the measurement.
type Verdict struct {
	Claim    string  `json:"claim"` // improvement_pct, ops_per_sec, overhead_pct
	Claimed  float64 `json:"claimed"`
	Measured float64 `json:"measured"`
	Holds    bool    `json:"holds"`
}

// Comparison is optimized against original for one pair.
//
// RatioMedian is the median of the per-repetition ratios
// rps_optimized/rps_original (a paired statistic: both COPYs of a ratio ran
// back to back, so slow drift of the machine cancels), NOT the ratio of the
// two medians. RatioMin and RatioMax are the extremes of the same
// per-repetition ratios. MeasuredImprovementPct = (RatioMedian − 1) × 100.
type Comparison struct {
	Pair                   string    `json:"pair"`
	RatioMedian            float64   `json:"ratio_median"`
	RatioMin               float64   `json:"ratio_min"`
	RatioMax               float64   `json:"ratio_max"`
	ClaimedImprovementPct  float64   `json:"claimed_improvement_pct"`
	MeasuredImprovementPct float64   `json:"measured_improvement_pct"`
	Verdict                string    `json:"verdict"` // of the improvement claim: "holds" or "does not hold"
	Verdicts               []Verdict `json:"verdicts"`
}

// VerdictText renders a claim's outcome as the CLI prints it.
func VerdictText(holds bool) string {
	if holds {
		return "holds"
	}
	return "does not hold"
}

// Summarize computes the per-variant results and per-pair comparisons of a
// set of measurements. Pairs appear in the order of their first measurement;
// a pair lacking a complete repetition (a cancelled run) is summarised over
// the repetitions that have all three variants.
func Summarize(ms []Measurement) ([]VariantResult, []Comparison) {
	var results []VariantResult
	var comps []Comparison
	for _, name := range pairOrder(ms) {
		reps := completeReps(ms, name)
		if len(reps) == 0 {
			continue
		}
		for _, v := range Variants {
			results = append(results, variantResult(name, v, reps))
		}
		comps = append(comps, compare(name, reps))
	}
	return results, comps
}

func pairOrder(ms []Measurement) []string {
	var names []string
	for _, m := range ms {
		if !slices.Contains(names, m.Table) {
			names = append(names, m.Table)
		}
	}
	return names
}

// rep holds the three measurements of one repetition of one pair.
type rep map[Variant]Measurement

func completeReps(ms []Measurement, pair string) []rep {
	byRep := map[int]rep{}
	var order []int
	for _, m := range ms {
		if m.Table != pair {
			continue
		}
		if byRep[m.Rep] == nil {
			byRep[m.Rep] = rep{}
			order = append(order, m.Rep)
		}
		byRep[m.Rep][m.Variant] = m
	}
	slices.Sort(order)
	var out []rep
	for _, r := range order {
		if len(byRep[r]) == len(Variants) {
			out = append(out, byRep[r])
		}
	}
	return out
}

func variantResult(pair string, v Variant, reps []rep) VariantResult {
	rps := make([]float64, len(reps))
	over := make([]float64, len(reps))
	for i, r := range reps {
		rps[i] = r[v].RowsPerSec
		over[i] = Overhead(r[v].Seconds, r[Unconstrained].Seconds)
	}
	return VariantResult{Table: pair, Variant: v, MedianRPS: Median(rps), MinRPS: slices.Min(rps), MaxRPS: slices.Max(rps), OverheadPct: Median(over)}
}

// Overhead is the constraint overhead in percent: (t − tFloor)/t × 100. It is
// negative when the constrained table happened to be faster than the floor.
func Overhead(t, tFloor float64) float64 {
	if t <= 0 {
		return 0
	}
	return (t - tFloor) / t * 100
}

func compare(pair string, reps []rep) Comparison {
	ratios := make([]float64, len(reps))
	for i, r := range reps {
		ratios[i] = r[Optimized].RowsPerSec / r[Original].RowsPerSec
	}
	p, _ := PairNamed(pair)
	c := Comparison{Pair: pair, RatioMedian: Median(ratios), RatioMin: slices.Min(ratios), RatioMax: slices.Max(ratios)}
	c.ClaimedImprovementPct = p.Claim.ImprovementPct
	c.MeasuredImprovementPct = (c.RatioMedian - 1) * 100
	opt := variantResult(pair, Optimized, reps)
	c.Verdicts = []Verdict{
		{Claim: "improvement_pct", Claimed: p.Claim.ImprovementPct, Measured: c.MeasuredImprovementPct, Holds: c.MeasuredImprovementPct >= p.Claim.ImprovementPct},
		{Claim: "ops_per_sec", Claimed: p.Claim.OpsPerSec, Measured: opt.MedianRPS, Holds: opt.MedianRPS >= p.Claim.OpsPerSec},
		{Claim: "overhead_pct", Claimed: p.Claim.OverheadPct, Measured: opt.OverheadPct, Holds: opt.OverheadPct <= p.Claim.OverheadPct},
	}
	c.Verdict = VerdictText(c.Verdicts[0].Holds)
	return c
}

// Median returns the median of xs (the mean of the two middle values for an
// even count); xs is not modified. It panics on an empty slice.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		panic(fmt.Sprintf("bench: median of %d values", len(xs)))
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
