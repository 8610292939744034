package bench

import (
	"testing"

	"hmperf/engine"
)

func TestJudgeAbout(t *testing.T) {
	tests := []struct {
		name    string
		xs      []float64
		claimed float64
		want    Outcome
	}{
		{"far below", []float64{0.01, 0.02, 0.02, 0.03, 0.01, 0.02}, 45.2, DoesNotHold},
		{"within ten percent", []float64{44, 45, 46, 47, 45.5, 44.5}, 45.2, Holds},
		{"straddles the band", []float64{40, 45, 46, 47, 45.5, 44.5}, 45.2, Inconclusive},
		{"far above", []float64{90, 91, 92, 93, 94, 95}, 45.2, DoesNotHold},
		{"too few reps", []float64{45, 45, 45}, 45.2, Inconclusive},
		{"negative figure", []float64{-72, -71, -73, -72, -70, -74}, -72, Holds},
	}
	for _, tt := range tests {
		if got := JudgeAbout(MedianInterval(tt.xs), tt.claimed); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestDedupVerdicts(t *testing.T) {
	six := func(v float64) []float64 { return []float64{v, v, v, v, v, v} }
	tests := []struct {
		name                  string
		tracker, typed, str   float64
		wantStr, wantTr, want Outcome
	}{
		{"as measured here: strings larger than tuples", 33.6, 52.5, 115, DoesNotHold, DoesNotHold, DoesNotHold},
		{"the report's figures", 20, 96, 24, Holds, Holds, Holds},
	}
	for _, tt := range tests {
		vs := dedupVerdicts(map[engine.DedupLayout][]float64{
			engine.LayoutTracker: six(tt.tracker), engine.LayoutTypedSet: six(tt.typed), engine.LayoutStringSet: six(tt.str)})
		got := []Outcome{vs[0].Verdict.Verdict, vs[2].Verdict.Verdict, vs[3].Verdict.Verdict}
		if want := []Outcome{tt.wantStr, tt.wantTr, tt.want}; got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
			t.Errorf("%s: verdicts %v, want %v", tt.name, got, want)
		}
	}
}

func TestCacheVerdicts(t *testing.T) {
	tests := []struct {
		name             string
		hit, faster      []float64
		wantHit, wantFst Outcome
	}{
		{"half re-sent, cache slower", []float64{49.7, 49.8, 49.7, 49.8, 49.7, 49.8}, []float64{-300, -280, -310, -290, -305, -295}, DoesNotHold, DoesNotHold},
		{"the report's figures", []float64{90, 91, 92, 90, 91, 92}, []float64{60, 61, 62, 60, 61, 62}, Holds, Holds},
		{"too few reps", []float64{90, 91}, []float64{60, 61}, Inconclusive, Inconclusive},
	}
	for _, tt := range tests {
		vs := cacheVerdicts(tt.hit, tt.faster, tt.hit)
		if vs[0].Verdict.Verdict != tt.wantHit || vs[1].Verdict.Verdict != tt.wantFst {
			t.Errorf("%s: %s and %s, want %s and %s", tt.name, vs[0].Verdict.Verdict, vs[1].Verdict.Verdict, tt.wantHit, tt.wantFst)
		}
	}
}

func TestClaimsDecided(t *testing.T) {
	lo, hi := 10.0, 10.2
	wide := 30.0
	tests := []struct {
		name string
		vs   []ClaimVerdict
		want bool
	}{
		{"all decided", []ClaimVerdict{{Verdict: Verdict{Verdict: Holds}}, {Verdict: Verdict{Verdict: DoesNotHold}}}, true},
		{"narrow inconclusive", []ClaimVerdict{{Verdict: Verdict{Verdict: Inconclusive, Measured: 10.1, CILow: &lo, CIHigh: &hi}}}, true},
		{"wide inconclusive", []ClaimVerdict{{Verdict: Verdict{Verdict: Inconclusive, Measured: 10.1, CILow: &lo, CIHigh: &wide}}}, false},
		{"unbounded", []ClaimVerdict{{Verdict: Verdict{Verdict: Inconclusive, Measured: 10.1}}}, false},
	}
	for _, tt := range tests {
		if got := claimsDecided(tt.vs, 5); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}
