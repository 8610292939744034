package bench_test

import (
	"math"
	"strings"
	"testing"

	"hmperf/queries/bench"
)

// sample builds n repetitions of the nutrition pair whose times are
// original, optimized and floor times one per-repetition jitter factor each
// (cycled), so the paired ratio and overhead vary as jitter says.
func sample(n int, orig, opt, floor float64, jitter []float64) []bench.Measurement {
	var ms []bench.Measurement
	for r := 1; r <= n; r++ {
		j := 1.0
		if len(jitter) > 0 {
			j = jitter[(r-1)%len(jitter)]
		}
		for _, x := range []struct {
			v bench.Variant
			t float64
		}{{bench.Original, orig}, {bench.Optimized, opt * j}, {bench.Unconstrained, floor}} {
			ms = append(ms, bench.Measurement{Table: "nutrition", Variant: x.v, Rep: r, Rows: 1000, Seconds: x.t, RowsPerSec: 1000 / x.t})
		}
	}
	return ms
}

// TestVerdicts: the nutrition claims are +65% improvement, 2,850 ops/s and
// an overhead of at most 8%.
func TestVerdicts(t *testing.T) {
	noise := []float64{0.98, 1.01, 1.0, 1.02, 0.99, 1.03, 0.97, 1.0}
	wide := []float64{0.5, 1.6, 0.8, 1.4, 0.7, 1.5, 0.9, 1.2}
	copyRun := bench.Setup{Method: bench.MethodCopy}
	cases := []struct {
		name                string
		ms                  []bench.Measurement
		setup               bench.Setup
		improvement, ops    bench.Outcome
		overhead            bench.Outcome
		floorWarning, bound bool
	}{
		// optimized twice as fast (+100%), about 2% over the floor.
		{"clearly better", sample(8, 2, 1, 0.98, noise), copyRun, bench.Holds, bench.NotComparable, bench.Holds, false, true},
		// optimized half as fast (−50%), 3x the floor.
		{"clearly worse", sample(8, 1, 2, 0.667, noise), copyRun, bench.DoesNotHold, bench.NotComparable, bench.DoesNotHold, false, true},
		// the ratio swings from 0.9 to 2.9 around the claimed 1.65.
		{"straddling", sample(8, 1.65, 1, 0.5, wide), copyRun, bench.Inconclusive, bench.NotComparable, bench.Inconclusive, false, true},
		// the floor is 10% slower than optimized in every repetition.
		{"negative overhead", sample(8, 2, 1, 1.1, noise), copyRun, bench.Holds, bench.NotComparable, bench.Inconclusive, true, true},
		{"one repetition", sample(1, 2, 1, 0.952, nil), copyRun, bench.Inconclusive, bench.NotComparable, bench.Inconclusive, false, false},
		// every repetition identical: a zero-width interval decides.
		{"all identical", sample(6, 2, 1, 0.952, nil), copyRun, bench.Holds, bench.NotComparable, bench.Holds, false, true},
		// five repetitions cannot bound a 95% order-statistic interval.
		{"five repetitions", sample(5, 2, 1, 0.952, noise), copyRun, bench.Inconclusive, bench.NotComparable, bench.Inconclusive, false, false},
		// measured by the report's own function: 1,000 rows/s against 2,850.
		{"function method", sample(8, 2, 1, 0.98, noise), bench.Setup{Method: bench.MethodFunction}, bench.Holds, bench.DoesNotHold, bench.Holds, false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, comps := bench.Summarize(c.ms, c.setup)
			if len(comps) != 1 {
				t.Fatalf("%d comparisons", len(comps))
			}
			got := map[string]bench.Verdict{}
			for _, v := range comps[0].Verdicts {
				got[v.Claim] = v
			}
			for claim, want := range map[string]bench.Outcome{"improvement_pct": c.improvement, "ops_per_sec": c.ops, "overhead_pct": c.overhead} {
				v := got[claim]
				if v.Verdict != want {
					t.Errorf("%s: %s (%v..%v, why %q), want %s", claim, v.Verdict, deref(v.CILow), deref(v.CIHigh), v.Why, want)
				}
				if v.Verdict == bench.Inconclusive || v.Verdict == bench.NotComparable {
					if v.Why == "" {
						t.Errorf("%s: %s without a reason", claim, v.Verdict)
					}
				}
				if v.Method == "" || v.Reps != len(c.ms)/3 {
					t.Errorf("%s: method %q, reps %d", claim, v.Method, v.Reps)
				}
			}
			if bounded := got["improvement_pct"].CILow != nil; bounded != c.bound {
				t.Errorf("interval bounded = %v, want %v", bounded, c.bound)
			}
			if warned := len(comps[0].FloorWarnings) > 0; warned != c.floorWarning {
				t.Errorf("floor warnings %q, want some = %v", comps[0].FloorWarnings, c.floorWarning)
			}
			if c.floorWarning && !strings.Contains(got["overhead_pct"].Why, "not a floor") {
				t.Errorf("negative overhead reason %q", got["overhead_pct"].Why)
			}
		})
	}
}

func deref(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

// TestMedianInterval checks the order-statistic ranks against the binomial
// coverage they must reach: n = 6 is the first count with an interval, and
// it is [min, max]; n = 9 drops one value at each end (coverage 96.1%);
// n = 17 drops four (coverage 95.1%).
func TestMedianInterval(t *testing.T) {
	seq := func(n int) []float64 {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = float64(n - i) // descending: the function must sort
		}
		return xs
	}
	cases := []struct {
		n         int
		bounded   bool
		low, high float64
	}{
		{1, false, 0, 0}, {5, false, 0, 0}, {6, true, 1, 6}, {8, true, 1, 8}, {9, true, 2, 8}, {17, true, 5, 13},
	}
	for _, c := range cases {
		iv := bench.MedianInterval(seq(c.n))
		if iv.Bounded != c.bounded || iv.Reps != c.n {
			t.Errorf("n=%d: bounded %v reps %d", c.n, iv.Bounded, iv.Reps)
			continue
		}
		if c.bounded && (iv.Low != c.low || iv.High != c.high || iv.Coverage < bench.Level) {
			t.Errorf("n=%d: [%g, %g] coverage %g, want [%g, %g] at >= %g", c.n, iv.Low, iv.High, iv.Coverage, c.low, c.high, bench.Level)
		}
		if !c.bounded && !math.IsInf(iv.Low, -1) {
			t.Errorf("n=%d: unbounded interval has low %g", c.n, iv.Low)
		}
	}
}

func TestJudge(t *testing.T) {
	iv := func(lo, hi float64) bench.Interval { return bench.Interval{Low: lo, High: hi, Bounded: true, Reps: 6} }
	cases := []struct {
		iv      bench.Interval
		claimed float64
		dir     bench.Direction
		want    bench.Outcome
	}{
		{iv(70, 90), 65, bench.AtLeast, bench.Holds},
		{iv(65, 90), 65, bench.AtLeast, bench.Holds},
		{iv(-10, 20), 65, bench.AtLeast, bench.DoesNotHold},
		{iv(60, 70), 65, bench.AtLeast, bench.Inconclusive},
		{iv(1, 7), 8, bench.AtMost, bench.Holds},
		{iv(9, 20), 8, bench.AtMost, bench.DoesNotHold},
		{iv(-6, 9), 8, bench.AtMost, bench.Inconclusive},
		{bench.Interval{Reps: 3}, 8, bench.AtMost, bench.Inconclusive},
	}
	for _, c := range cases {
		if got := bench.Judge(c.iv, c.claimed, c.dir); got != c.want {
			t.Errorf("Judge(%+v, %g, %v) = %s, want %s", c.iv, c.claimed, c.dir, got, c.want)
		}
	}
}

func TestOverheadDefinition(t *testing.T) {
	// Twice the floor's time is 100% overhead; the floor's own time 0%;
	// faster than the floor negative.
	for _, c := range []struct{ t, floor, want float64 }{{2, 1, 100}, {1, 1, 0}, {1.08, 1, 8}, {0.9, 1, -10}} {
		if got := bench.Overhead(c.t, c.floor); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("Overhead(%g, %g) = %g, want %g", c.t, c.floor, got, c.want)
		}
	}
}

func TestChunkRows(t *testing.T) {
	for _, c := range []struct{ cols, want int }{{43, 1524}, {12, 5461}, {1, 65535}, {70000, 1}} {
		if got := bench.ChunkRows(c.cols); got != c.want {
			t.Errorf("ChunkRows(%d) = %d, want %d", c.cols, got, c.want)
		}
	}
}
