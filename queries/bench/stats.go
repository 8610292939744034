package bench

import (
	"fmt"
	"math"
	"slices"
	"strconv"
)

// Measurement is one timed write: one variant, one repetition.
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
	Reps      int     `json:"reps"`
	MedianRPS float64 `json:"median_rows_per_sec"`
	MinRPS    float64 `json:"min_rows_per_sec"`
	MaxRPS    float64 `json:"max_rows_per_sec"`
	// RPSLow and RPSHigh bound the median rows/s at 95%; nil when too few
	// repetitions bound it.
	RPSLow  *float64 `json:"rows_per_sec_ci_low"`
	RPSHigh *float64 `json:"rows_per_sec_ci_high"`
	// OverheadPct is the median over repetitions of the constraint
	// overhead (t − t_floor)/t_floor in percent, t and t_floor (the
	// unconstrained twin's time) from the same repetition; 0 for the
	// unconstrained variant itself. OverheadLow and OverheadHigh bound it.
	OverheadPct  float64  `json:"constraint_overhead_pct"`
	OverheadLow  *float64 `json:"overhead_ci_low"`
	OverheadHigh *float64 `json:"overhead_ci_high"`
}

// Verdict sets one claim of the report against the measurement.
type Verdict struct {
	Claim    string  `json:"claim"` // improvement_pct, ops_per_sec, overhead_pct
	Claimed  float64 `json:"claimed"`
	Unit     string  `json:"unit"`     // "%" or "rows/s"
	Measured float64 `json:"measured"` // the median, in Unit
	// CILow and CIHigh bound Measured at 95%, in Unit; nil when unbounded
	// or not measured comparably.
	CILow   *float64 `json:"ci_low"`
	CIHigh  *float64 `json:"ci_high"`
	Method  string   `json:"method"` // how the interval was computed
	Reps    int      `json:"reps"`
	Verdict Outcome  `json:"verdict"`
	Why     string   `json:"why,omitempty"`
}

// Comparison is optimized against original for one pair.
//
// RatioMedian is the median of the per-repetition ratios
// rps_optimized/rps_original (a paired statistic: both writes of a ratio
// ran back to back, so slow drift of the machine cancels), NOT the ratio of
// the two medians; RatioLow and RatioHigh are its 95% interval, RatioMin
// and RatioMax the extremes. MeasuredImprovementPct = (RatioMedian − 1) ×
// 100, and CILow/CIHigh the interval in the same unit.
type Comparison struct {
	Pair                   string    `json:"pair"`
	Reps                   int       `json:"reps"`
	RatioMedian            float64   `json:"ratio_median"`
	RatioMin               float64   `json:"ratio_min"`
	RatioMax               float64   `json:"ratio_max"`
	RatioLow               *float64  `json:"ratio_ci_low"`
	RatioHigh              *float64  `json:"ratio_ci_high"`
	ClaimedImprovementPct  float64   `json:"claimed_improvement_pct"`
	MeasuredImprovementPct float64   `json:"measured_improvement_pct"`
	CILow                  *float64  `json:"ci_low"`
	CIHigh                 *float64  `json:"ci_high"`
	Method                 string    `json:"method"`
	Verdict                Outcome   `json:"verdict"` // of the improvement claim
	Verdicts               []Verdict `json:"verdicts"`
	// FloorWarnings name constrained variants that were systematically
	// faster than the unconstrained floor: a wrong floor, not a win.
	FloorWarnings []string `json:"floor_warnings,omitempty"`
}

// Setup is how a run wrote its rows, which decides which claims it can
// judge.
type Setup struct {
	Method Method `json:"method"`
	Commit bool   `json:"commit"`
	// Scratch says the rows went to scratch copies of the live tables, as
	// every run's do now; runs stored before that wrote the live tables
	// (rolled back) unless they committed.
	Scratch bool `json:"scratch"`
}

// Summarize computes the per-variant results and per-pair comparisons of a
// set of measurements made as setup says. Pairs appear in the order of
// their first measurement; a pair lacking a complete repetition (a
// cancelled run) is summarised over the repetitions that have all three
// variants.
func Summarize(ms []Measurement, setup Setup) ([]VariantResult, []Comparison) {
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
		comps = append(comps, compare(name, reps, setup))
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
	ri, oi := MedianInterval(rps), MedianInterval(over)
	out := VariantResult{Table: pair, Variant: v, Reps: len(reps), MedianRPS: ri.Median,
		MinRPS: slices.Min(rps), MaxRPS: slices.Max(rps), OverheadPct: oi.Median}
	out.RPSLow, out.RPSHigh = bounds(ri)
	if v != Unconstrained {
		out.OverheadLow, out.OverheadHigh = bounds(oi)
	}
	return out
}

// bounds returns the interval's ends, or nils when it is unbounded.
func bounds(iv Interval) (*float64, *float64) {
	if !iv.Bounded {
		return nil, nil
	}
	lo, hi := iv.Low, iv.High
	return &lo, &hi
}

// Overhead is the constraint overhead in percent: (t − tFloor)/tFloor ×
// 100, the extra time a constrained table takes over the cheapest layout of
// the same rows, as a share of that floor. It is negative when the
// constrained table was faster than the floor.
func Overhead(t, tFloor float64) float64 {
	if tFloor <= 0 {
		return 0
	}
	return (t - tFloor) / tFloor * 100
}

func compare(pair string, reps []rep, setup Setup) Comparison {
	ratios := make([]float64, len(reps))
	for i, r := range reps {
		ratios[i] = r[Optimized].RowsPerSec / r[Original].RowsPerSec
	}
	p, _ := PairNamed(pair)
	ri := MedianInterval(ratios)
	c := Comparison{Pair: pair, Reps: len(reps), RatioMedian: ri.Median, RatioMin: slices.Min(ratios), RatioMax: slices.Max(ratios),
		ClaimedImprovementPct: p.Claim.ImprovementPct, Method: IntervalMethod}
	c.RatioLow, c.RatioHigh = bounds(ri)
	imp := ri.Scale(func(r float64) float64 { return (r - 1) * 100 })
	c.MeasuredImprovementPct = imp.Median
	c.CILow, c.CIHigh = bounds(imp)
	c.Verdicts = []Verdict{
		judged(ClaimImprovement, p.Claim.ImprovementPct, "%", imp, AtLeast),
		opsVerdict(p, reps, setup),
		overheadVerdict(p, reps),
	}
	c.Verdict = c.Verdicts[0].Verdict
	c.FloorWarnings = floorWarnings(p, reps)
	return c
}

// judged is the verdict on a claim measured comparably.
func judged(claim string, claimed float64, unit string, iv Interval, dir Direction) Verdict {
	v := Verdict{Claim: claim, Claimed: claimed, Unit: unit, Measured: iv.Median, Method: IntervalMethod, Reps: iv.Reps}
	v.CILow, v.CIHigh = bounds(iv)
	v.Verdict = Judge(iv, claimed, dir)
	if v.Verdict != Inconclusive {
		return v
	}
	if !iv.Bounded {
		v.Why = fmt.Sprintf("%d repetitions: a 95%% interval needs at least %d", iv.Reps, MinReps)
	} else {
		v.Why = fmt.Sprintf("the interval %s to %s contains the claimed %s", num(iv.Low), num(iv.High), num(claimed))
	}
	return v
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// opsVerdict judges the report's throughput claim. The report states it in
// operations per second of its own benchmark function, so only a run of
// that function measures it in its unit; any other method is not
// comparable, whatever the figures.
func opsVerdict(p Pair, reps []rep, setup Setup) Verdict {
	rps := make([]float64, len(reps))
	for i, r := range reps {
		rps[i] = r[Optimized].RowsPerSec
	}
	iv := MedianInterval(rps)
	if setup.Method == MethodFunction {
		return judged(ClaimThroughput, p.Claim.OpsPerSec, RowsPerSecUnit, iv, AtLeast)
	}
	fn, _ := SQLFunction(p.Name)
	return Verdict{Claim: ClaimThroughput, Claimed: p.Claim.OpsPerSec, Unit: RowsPerSecUnit, Measured: iv.Median,
		Method: IntervalMethod, Reps: iv.Reps, Verdict: NotComparable,
		Why: fmt.Sprintf("the report states ops/s of %s(); this run measured rows/s by %s: run --method function to judge it", fn, setup.describe())}
}

// RowsPerSecUnit is the unit of throughput figures.
const RowsPerSecUnit = "rows/s"

// overheadVerdict judges the optimized table's overhead claim. An interval
// wholly below zero means the floor was slower than the constrained table:
// a wrong floor, so the claim cannot be judged against it.
func overheadVerdict(p Pair, reps []rep) Verdict {
	iv := overheadInterval(reps, Optimized)
	v := judged(ClaimOverhead, p.Claim.OverheadPct, "%", iv, AtMost)
	if iv.Bounded && iv.High < 0 {
		v.Verdict = Inconclusive
		v.Why = fmt.Sprintf("%s was slower than %s in the whole interval: the floor is not a floor", p.Tables[Unconstrained], p.Tables[Optimized])
	}
	return v
}

func overheadInterval(reps []rep, v Variant) Interval {
	over := make([]float64, len(reps))
	for i, r := range reps {
		over[i] = Overhead(r[v].Seconds, r[Unconstrained].Seconds)
	}
	return MedianInterval(over)
}

func floorWarnings(p Pair, reps []rep) []string {
	var out []string
	for _, v := range []Variant{Original, Optimized} {
		iv := overheadInterval(reps, v)
		if iv.Bounded && iv.High < 0 {
			out = append(out, fmt.Sprintf("%s (unconstrained) was systematically slower than %s: overhead %s%% to %s%%; the floor is not a floor, and no negative overhead is a win",
				p.Tables[Unconstrained], p.Tables[v], num(iv.Low), num(iv.High)))
		}
	}
	return out
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

// decided reports whether every comparable claim of cs is decided or its
// interval is narrower than width (in the claim's unit; relative, in
// percent of the median, for throughput).
func decided(cs []Comparison, width float64) bool {
	for _, c := range cs {
		for _, v := range c.Verdicts {
			if v.Verdict == Holds || v.Verdict == DoesNotHold || v.Verdict == NotComparable {
				continue
			}
			if v.CILow == nil {
				return false
			}
			w := *v.CIHigh - *v.CILow
			if v.Unit == RowsPerSecUnit && v.Measured > 0 {
				w = w / v.Measured * 100
			}
			if w > width || math.IsNaN(w) {
				if v.Claim == ClaimOverhead && *v.CIHigh < 0 {
					continue // a wrong floor is decided: more reps will not fix it
				}
				return false
			}
		}
	}
	return true
}
