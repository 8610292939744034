package engine

import (
	"math"
	"strings"
	"testing"
)

// TestNarrow: a live CHECK narrower than the engine's rule moves the rule's
// bounds to it (rounded inward to the column's step, exclusive bounds one
// step in), changes the version, and leaves the original rules alone; a
// CHECK the rule already keeps within changes nothing.
func TestNarrow(t *testing.T) {
	inf := math.Inf(1)
	tests := []struct {
		name      string
		kind      Kind
		field     string
		bound     Bound
		changed   bool
		lo, hi    float64
		noUpper   bool
		valid     []float64
		invalid   []float64
		wantError bool
	}{
		{"exclusive lower on an integer", KindSleep, "duration_minutes", Bound{Lo: 0, Hi: inf, LoOpen: true}, true, 1, 1440, false,
			[]float64{1, 1440}, []float64{0, 1441}, false},
		{"exclusive lower on NUMERIC(5,2)", KindSleep, "efficiency", Bound{Lo: 0, Hi: 100, LoOpen: true}, true, 0.01, 100, false,
			[]float64{0.01, 0.005, 100}, []float64{0, 0.004, 100.01}, false},
		{"upper where the engine had none", KindSleep, "awake_minutes", Bound{Lo: 0, Hi: 1440}, true, 0, 1440, false,
			[]float64{0, 1440}, []float64{-1, 1441}, false},
		{"the same bounds", KindHeartRate, "heart_rate", Bound{Lo: 15, Hi: 300}, false, 15, 300, false, nil, nil, false},
		{"wider than the configured range", KindBloodPressure, "systolic", Bound{Lo: 0, Hi: 300, LoOpen: true}, false, 50, 250, false,
			nil, nil, false},
		{"lower only, wider", KindSleep, "deep_sleep_minutes", Bound{Lo: 0, Hi: inf}, false, 0, 0, true, nil, nil, false},
		{"no such rule", KindSleep, "sleep_start", Bound{Lo: 0, Hi: 1}, false, 0, 0, false, nil, nil, true},
	}
	base := testRules(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, changed, err := base.Narrow(tt.kind, tt.field, tt.bound)
			if tt.wantError {
				if err == nil {
					t.Fatal("want an error")
				}
				return
			}
			if err != nil || changed != tt.changed {
				t.Fatalf("changed %v, err %v; want changed %v", changed, err, tt.changed)
			}
			if !changed {
				if rs != base {
					t.Error("unchanged rules are a copy")
				}
				return
			}
			if rs.Version() == base.Version() {
				t.Error("version unchanged")
			}
			r := ruleOf(t, rs, tt.kind, tt.field)
			if r.Lo != tt.lo || r.Hi != tt.hi || r.NoUpperBound != tt.noUpper || !r.HasCheck || r.DBLo != tt.lo {
				t.Errorf("rule %+v, want [%g, %g]", r, tt.lo, tt.hi)
			}
			for _, v := range tt.valid {
				if vs := validWith(t, rs, r, tt.kind, v); len(vs) != 0 {
					t.Errorf("%g: %v, want valid", v, vs)
				}
			}
			for _, v := range tt.invalid {
				if vs := validWith(t, rs, r, tt.kind, v); len(vs) == 0 {
					t.Errorf("%g valid, want refused", v)
				}
				if vs := validWith(t, base, r, tt.kind, v); len(vs) != 0 && v >= ruleOf(t, base, tt.kind, tt.field).Lo &&
					v <= ruleOf(t, base, tt.kind, tt.field).Hi {
					t.Errorf("%g: the original rules changed: %v", v, vs)
				}
			}
		})
	}
}

func TestNarrowEnum(t *testing.T) {
	base := testRules(t)
	rs, changed, err := base.NarrowEnum(KindHeartRate, "context", []string{"resting", "exercise", "walking"})
	if err != nil || !changed {
		t.Fatalf("changed %v, err %v", changed, err)
	}
	rec := Baseline(KindHeartRate, testUser, testAt).(*HeartRate)
	rec.Context = "sleep"
	if len(rs.Validate(rec, nil)) == 0 || len(base.Validate(rec, nil)) != 0 {
		t.Error("sleep: want refused by the narrowed rules only")
	}
	rec.Context = "exercise"
	if vs := rs.Validate(rec, nil); len(vs) != 0 {
		t.Errorf("exercise: %v", vs)
	}
	if same, changed, _ := base.NarrowEnum(KindHeartRate, "context", heartRateContexts); changed || same != base {
		t.Error("the same values changed the rules")
	}
}

func ruleOf(t *testing.T, rs *Rules, k Kind, field string) Rule {
	t.Helper()
	for _, r := range rs.For(k) {
		if r.Field == field && r.Kind == RuleRange {
			return r
		}
	}
	t.Fatalf("no range rule %s.%s", k.Table(), field)
	return Rule{}
}

// validWith validates the baseline record of k with field set to v and
// returns the violations of field's range rule (the cross-field rules that
// also read it are not what is tested here).
func validWith(t *testing.T, rs *Rules, r Rule, k Kind, v float64) []Violation {
	t.Helper()
	rec := Baseline(k, testUser, testAt)
	if err := r.Apply(rec, v); err != nil {
		t.Fatal(err)
	}
	var out []Violation
	for _, vi := range rs.Validate(rec, nil) {
		if vi.Field == r.Field && (strings.HasPrefix(vi.Rule, "range") || strings.HasPrefix(vi.Rule, ">=")) {
			out = append(out, vi)
		}
	}
	return out
}
