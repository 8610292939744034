package bench

import (
	"math"
	"slices"
)

// Level is the confidence every interval is computed at.
const Level = 0.95

// IntervalMethod names how intervals are computed, as the output says it.
const IntervalMethod = "distribution-free 95% interval of the median of paired per-repetition values (binomial order statistics, the sign test inverted); at least 6 repetitions"

// MinReps is the fewest repetitions for which a 95% order-statistic
// interval of a median exists: with n values, [min, max] covers the median
// with probability 1 − 2·0.5ⁿ, which first reaches 95% at n = 6.
const MinReps = 6

// Interval is a confidence interval of the median of some per-repetition
// values. Bounded is false when too few repetitions were made for any
// interval at Level: Low and High are then −Inf and +Inf.
type Interval struct {
	Median  float64
	Low     float64
	High    float64
	Reps    int
	Bounded bool
	// Coverage is the interval's exact coverage (at least Level when
	// Bounded): order statistics give only discrete levels.
	Coverage float64
}

// MedianInterval returns the median of xs with its distribution-free
// confidence interval [x(k), x(n−k+1)], k the largest rank whose interval
// still covers the median with probability at least Level under any
// continuous distribution of independent values. It assumes nothing about
// the shape of the distribution, so a twofold outlier widens the interval
// by at most one rank instead of dragging a mean. xs is not modified; an
// empty xs gives a zero, unbounded interval.
func MedianInterval(xs []float64) Interval {
	n := len(xs)
	iv := Interval{Reps: n, Low: math.Inf(-1), High: math.Inf(1)}
	if n == 0 {
		return iv
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	iv.Median = Median(s)
	k := orderRank(n)
	if k == 0 {
		return iv
	}
	iv.Low, iv.High, iv.Bounded = s[k-1], s[n-k], true
	iv.Coverage = 1 - 2*binomCDF(k-1, n)
	return iv
}

// orderRank is the largest k ≥ 1 with 1 − 2·P(B ≤ k−1) ≥ Level for
// B ~ Binomial(n, ½), or 0 when even k = 1 falls short.
func orderRank(n int) int {
	k := 0
	for j := 1; 2*j <= n+1; j++ {
		if 1-2*binomCDF(j-1, n) < Level {
			break
		}
		k = j
	}
	return k
}

// binomCDF is P(B ≤ j) for B ~ Binomial(n, ½), summed in logs so large n
// does not underflow.
func binomCDF(j, n int) float64 {
	lgN, _ := math.Lgamma(float64(n + 1))
	sum := 0.0
	for i := 0; i <= j; i++ {
		a, _ := math.Lgamma(float64(i + 1))
		b, _ := math.Lgamma(float64(n - i + 1))
		sum += math.Exp(lgN - a - b - float64(n)*math.Ln2)
	}
	return min(sum, 1)
}

// Scale maps the interval through an increasing function f.
func (iv Interval) Scale(f func(float64) float64) Interval {
	out := iv
	out.Median = f(iv.Median)
	if iv.Bounded {
		out.Low, out.High = f(iv.Low), f(iv.High)
	}
	return out
}

// Width is High − Low; +Inf when unbounded.
func (iv Interval) Width() float64 {
	if !iv.Bounded {
		return math.Inf(1)
	}
	return iv.High - iv.Low
}

// Outcome is a verdict on one claim.
type Outcome string

// The verdicts a claim can get.
const (
	Holds         Outcome = "holds"
	DoesNotHold   Outcome = "does not hold"
	Inconclusive  Outcome = "inconclusive"
	NotComparable Outcome = "not comparable"
)

// Direction says on which side of the claimed figure a claim holds.
type Direction int

// AtLeast claims hold above the figure (throughput, improvement); AtMost
// claims below it (overhead).
const (
	AtLeast Direction = iota
	AtMost
)

// Judge decides a claim from an interval: it holds only when the whole
// interval is on the claim's side of claimed, does not hold only when the
// whole interval is on the other side, and is inconclusive otherwise
// (including when too few repetitions bound no interval).
func Judge(iv Interval, claimed float64, dir Direction) Outcome {
	if !iv.Bounded {
		return Inconclusive
	}
	switch dir {
	case AtLeast:
		if iv.Low >= claimed {
			return Holds
		}
		if iv.High < claimed {
			return DoesNotHold
		}
	case AtMost:
		if iv.High <= claimed {
			return Holds
		}
		if iv.Low > claimed {
			return DoesNotHold
		}
	}
	return Inconclusive
}
