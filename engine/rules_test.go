package engine

import (
	"math"
	"strings"
	"testing"
	"time"
)

var (
	testUser = UUID{0xb4, 0x79, 0xa3, 0xb9, 0x9e, 0xf1, 0x4a, 0x82, 0x97, 0x71, 0xad, 0xff, 0x57, 0x43, 0x2e, 0x18}
	testNow  = time.Date(2025, 9, 15, 12, 0, 0, 0, time.UTC)
	testAt   = time.Date(2025, 9, 9, 5, 6, 7, 0, time.UTC)
)

func testRules(t testing.TB) *Rules {
	t.Helper()
	return DefaultRules().WithClock(func() time.Time { return testNow })
}

func TestBaselinesAreValid(t *testing.T) {
	rs := testRules(t)
	for _, k := range Kinds() {
		if v := rs.Validate(Baseline(k, testUser, testAt), nil); len(v) != 0 {
			t.Errorf("%s baseline: %v", k, v)
		}
	}
}

// TestRangeBoundaries walks every range rule of every kind: lo and hi are
// valid, one step outside each is not, and only that field is reported.
func TestRangeBoundaries(t *testing.T) {
	rs := testRules(t)
	n := 0
	rs.Walk(func(k Kind, r Rule) {
		for _, p := range r.Probes() {
			rec := Baseline(k, testUser, testAt)
			if err := r.Apply(rec, p.Value); err != nil {
				t.Fatal(err)
			}
			got := ruleViolations(rs.Validate(rec, nil), r)
			if p.Valid != (got == 0) {
				t.Errorf("%s.%s = %v: valid=%v, want %v", k, r.Field, p.Value, got == 0, p.Valid)
			}
			n++
		}
	})
	// 39 nutrition + 15 activity + the smaller tables, 2–4 probes each.
	if n < 4*(39+15) {
		t.Errorf("only %d probes walked", n)
	}
}

// ruleViolations counts violations of rule r, ignoring cross-field rules a
// probe may also trip (e.g. systolic at its minimum is below diastolic).
func ruleViolations(vs []Violation, r Rule) int {
	n := 0
	for _, v := range vs {
		if v.Field == r.Field && v.Rule == r.Desc {
			n++
		}
	}
	return n
}

func TestProbeSteps(t *testing.T) {
	rs := testRules(t)
	tests := []struct {
		kind  Kind
		field string
		want  []float64
	}{
		{KindHeartRate, "heart_rate", []float64{15, 14, 300, 301}},
		{KindNutrition, "water_ml", []float64{0, -0.01, 20000, 20000.01}},
		{KindNutrition, "thiamin_mg", []float64{0, -0.001, 100, 100.001}},
		{KindActivity, "distance_cycling_meters", []float64{0, -0.01, 1000000, 1000000.01}},
		{KindActivity, "distance_swimming_meters", []float64{0, -0.01, 50000, 50000.01}},
		{KindSleep, "awake_minutes", []float64{0, -1}},
		{KindSymptom, "duration_minutes", []float64{0, -1, 10080, 10081}},
	}
	for _, tt := range tests {
		r := findRule(t, rs, tt.kind, tt.field, RuleRange)
		var got []float64
		for _, p := range r.Probes() {
			got = append(got, p.Value)
		}
		if len(got) != len(tt.want) {
			t.Fatalf("%s probes %v, want %v", tt.field, got, tt.want)
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%s probes %v, want %v", tt.field, got, tt.want)
			}
		}
	}
}

func findRule(t testing.TB, rs *Rules, k Kind, field string, kind RuleKind) Rule {
	t.Helper()
	for _, r := range rs.For(k) {
		if r.Field == field && r.Kind == kind {
			return r
		}
	}
	t.Fatalf("no %s rule for %s.%s", kind, k, field)
	return Rule{}
}

// TestNumericRounding checks the database's rounding at the boundary:
// NUMERIC(8,2) stores 20000.004 as 20000.00 (valid) and 20000.005 as
// 20000.01 (invalid).
func TestNumericRounding(t *testing.T) {
	rs := testRules(t)
	tests := []struct {
		field string
		v     float64
		valid bool
	}{
		{"water_ml", 20000.004, true},
		{"water_ml", 20000.005, false},
		{"water_ml", -0.004, true},
		{"water_ml", -0.005, false},
		{"thiamin_mg", 100.0004, true},
		{"thiamin_mg", 100.0005, false},
		{"water_ml", math.NaN(), false},
		{"water_ml", math.Inf(1), false},
		{"water_ml", math.Inf(-1), false},
		{"water_ml", math.Copysign(0, -1), true},
		{"water_ml", 1e308, false},
	}
	for _, tt := range tests {
		n := Baseline(KindNutrition, testUser, testAt).(*Nutrition)
		n.Set(nutrientIndex(tt.field), tt.v)
		if got := len(rs.Validate(n, nil)) == 0; got != tt.valid {
			t.Errorf("%s=%v valid=%v, want %v", tt.field, tt.v, got, tt.valid)
		}
	}
}

func TestOtherRules(t *testing.T) {
	rs := testRules(t)
	long := strings.Repeat("é", 101)
	tests := []struct {
		name  string
		kind  Kind
		edit  func(Record)
		field string
		rule  string
	}{
		{"context enum", KindHeartRate, func(r Record) { r.(*HeartRate).Context = "walking" }, "context", "one of"},
		{"context null ok", KindHeartRate, func(r Record) { r.(*HeartRate).Context = "" }, "", ""},
		{"source 100 chars ok", KindHeartRate, func(r Record) { r.(*HeartRate).Source = long[:200] }, "", ""},
		{"source 101 chars", KindHeartRate, func(r Record) { r.(*HeartRate).Source = long }, "source", "at most 100"},
		{"recorded_at required", KindHeartRate, func(r Record) { r.(*HeartRate).RecordedAt = time.Time{} }, "recorded_at", "required"},
		{"systolic <= diastolic", KindBloodPressure, func(r Record) { r.(*BloodPressure).Diastolic = 120 }, "systolic", "systolic > diastolic"},
		{"sleep end before start", KindSleep, func(r Record) { s := r.(*Sleep); s.End = s.Start }, "sleep_end", "sleep_end > sleep_start"},
		{"sleep stages too long", KindSleep, func(r Record) { r.(*Sleep).DeepMinutes = Some[int32](481) }, "deep_sleep_minutes", "deep + rem"},
		{"sleep stages fit", KindSleep, func(r Record) {
			s := r.(*Sleep)
			s.DeepMinutes, s.LightMinutes, s.DurationMinutes = Some[int32](480), Some[int32](0), Some[int32](480)
		}, "", ""},
		// sleep_duration_consistency at its bound (baseline: 450 minutes, 400
		// light) and one minute past it, NULL stages counting 0 as COALESCE
		// does.
		{"sleep duration = stages", KindSleep, func(r Record) { r.(*Sleep).Awake = Some[int32](50) }, "", ""},
		{"sleep duration < stages", KindSleep, func(r Record) {
			s := r.(*Sleep)
			s.Awake, s.DurationMinutes = Some[int32](50), Some[int32](449)
		}, "duration_minutes", SleepDurationConsistency},
		{"sleep stages with awake", KindSleep, func(r Record) { r.(*Sleep).Awake = Some[int32](51) }, "duration_minutes", SleepDurationConsistency},
		{"sleep null stages count 0", KindSleep, func(r Record) {
			s := r.(*Sleep)
			s.LightMinutes, s.DurationMinutes = Opt[int32]{}, Some[int32](421)
		}, "", ""},
		{"sleep duration tolerance edge", KindSleep, func(r Record) { r.(*Sleep).DurationMinutes = Some[int32](420) }, "", ""},
		{"sleep duration off", KindSleep, func(r Record) { r.(*Sleep).DurationMinutes = Some[int32](419) }, "duration_minutes", "within 60"},
		{"workout type required", KindWorkout, func(r Record) { r.(*Workout).Type = "" }, "workout_type", "required"},
		{"workout 24h ok", KindWorkout, func(r Record) { w := r.(*Workout); w.End = w.Start.Add(24 * time.Hour) }, "", ""},
		{"workout too long", KindWorkout, func(r Record) { w := r.(*Workout); w.End = w.Start.Add(24*time.Hour + time.Second) }, "ended_at", "duration <= 24"},
		{"workout end before start", KindWorkout, func(r Record) { w := r.(*Workout); w.End = w.Start }, "ended_at", "ended_at > started_at"},
		{"activity period", KindActivity, func(r Record) { r.(*Activity).AggregationPeriod = "monthly" }, "aggregation_period", "one of"},
		{"activity whole steps", KindActivity, func(r Record) { r.(*Activity).Set(ActStepCount, 10.5) }, "step_count", "whole number"},
		{"nutrition period", KindNutrition, func(r Record) { r.(*Nutrition).AggregationPeriod = "hourly" }, "aggregation_period", "one of"},
		{"symptom type", KindSymptom, func(r Record) { r.(*Symptom).Type = "coughing" }, "symptom_type", "one of the 68"},
		{"symptom type required", KindSymptom, func(r Record) { r.(*Symptom).Type = "" }, "symptom_type", "required"},
		{"severity", KindSymptom, func(r Record) { r.(*Symptom).Severity = "critical" }, "severity", "one of"},
		{"onset in future", KindSymptom, func(r Record) { r.(*Symptom).OnsetAt = testNow.Add(time.Microsecond) }, "onset_at", "not after now"},
		{"onset now ok", KindSymptom, func(r Record) { r.(*Symptom).OnsetAt = testNow }, "", ""},
		{"recorded_at now+1d ok", KindSymptom, func(r Record) { r.(*Symptom).RecordedAt = testNow.Add(24 * time.Hour) }, "", ""},
		{"recorded_at too late", KindSymptom, func(r Record) { r.(*Symptom).RecordedAt = testNow.Add(24*time.Hour + time.Microsecond) }, "recorded_at", "not after now + 24h"},
		{"recorded_at 1900 ok", KindSymptom, func(r Record) { r.(*Symptom).RecordedAt = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC) }, "", ""},
		{"recorded_at before 1900", KindSymptom, func(r Record) {
			r.(*Symptom).RecordedAt = time.Date(1899, 12, 31, 23, 59, 59, 999999000, time.UTC)
		}, "recorded_at", "from 1900-01-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := Baseline(tt.kind, testUser, testAt)
			tt.edit(rec)
			vs := rs.Validate(rec, nil)
			if tt.field == "" {
				if len(vs) != 0 {
					t.Fatalf("want valid, got %v", vs)
				}
				return
			}
			for _, v := range vs {
				if v.Field == tt.field && strings.Contains(v.Rule, tt.rule) {
					return
				}
			}
			t.Fatalf("want %s violating %q, got %v", tt.field, tt.rule, vs)
		})
	}
}

func TestValidateReportsEveryField(t *testing.T) {
	rs := testRules(t)
	n := Baseline(KindNutrition, testUser, testAt).(*Nutrition)
	for i := range NutrientCount {
		n.Set(i, -1)
	}
	n.Set(NutWater, math.NaN())
	n.AggregationPeriod = "yearly"
	vs := rs.Validate(n, nil)
	if len(vs) != NutrientCount+1 {
		t.Fatalf("got %d violations, want %d: %v", len(vs), NutrientCount+1, vs)
	}
	if vs[0].Field != "water_ml" || vs[0].Rule != "finite number" || vs[0].Value != "NaN" {
		t.Errorf("first violation %+v", vs[0])
	}
}

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
		check   func(Config) bool
	}{
		{"defaults", nil, "", func(c Config) bool { return c == DefaultConfig() }},
		{"override", map[string]string{"VALIDATION_HEART_RATE_MAX": "220"}, "", func(c Config) bool { return c.HeartRateMax == 220 }},
		{"legacy steps name", map[string]string{"VALIDATION_STEPS_MAX": "50000"}, "", func(c Config) bool { return c.StepCountMax == 50000 }},
		{"new name wins", map[string]string{"VALIDATION_STEPS_MAX": "1", "VALIDATION_STEP_COUNT_MAX": "7"}, "", func(c Config) bool { return c.StepCountMax == 7 }},
		{"not a number", map[string]string{"VALIDATION_CALORIES_MAX": "lots"}, "VALIDATION_CALORIES_MAX", nil},
		{"nan", map[string]string{"VALIDATION_CALORIES_MAX": "NaN"}, "not a finite number", nil},
		{"min not below max", map[string]string{"VALIDATION_SYSTOLIC_MIN": "250"}, "VALIDATION_SYSTOLIC_MIN (250) must be less than VALIDATION_SYSTOLIC_MAX (250)", nil},
		{"zero duration", map[string]string{"VALIDATION_WORKOUT_MAX_DURATION_HOURS": "0"}, "must be positive", nil},
		{"negative tolerance", map[string]string{"VALIDATION_SLEEP_DURATION_TOLERANCE_MINUTES": "-1"}, "must not be negative", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ConfigFromEnv(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !tt.check(c) {
				t.Fatalf("config %+v, err %v", c, err)
			}
		})
	}
}

// TestConfigBoundsAndVersion: a stricter setting narrows the rule and
// changes the version; a looser one is clamped to the DB CHECK.
func TestConfigBoundsAndVersion(t *testing.T) {
	base := DefaultRules()
	tests := []struct {
		name         string
		edit         func(*Config)
		kind         Kind
		field        string
		lo, hi       float64
		versionMoves bool
	}{
		{"default", func(*Config) {}, KindHeartRate, "heart_rate", 15, 300, false},
		{"stricter hr", func(c *Config) { c.HeartRateMax = 220 }, KindHeartRate, "heart_rate", 15, 220, true},
		{"looser hr clamped", func(c *Config) { c.HeartRateMax = 400 }, KindHeartRate, "heart_rate", 15, 300, false},
		{"fractional bound rounded in", func(c *Config) { c.HeartRateMin = 15.5 }, KindHeartRate, "heart_rate", 16, 300, true},
		{"pulse follows hr", func(c *Config) { c.HeartRateMin = 40 }, KindBloodPressure, "pulse", 40, 300, true},
		{"workout distance", func(c *Config) { c.DistanceMaxKM = 100 }, KindWorkout, "distance_meters", 0, 100000, true},
		{"cycling keeps DB bound", func(c *Config) { c.DistanceMaxKM = 100 }, KindActivity, "distance_cycling_meters", 0, 1000000, true},
		{"calories", func(c *Config) { c.CaloriesMax = 5000 }, KindActivity, "active_energy_burned_kcal", 0, 5000, true},
		{"efficiency", func(c *Config) { c.SleepEfficiencyMin = 50 }, KindSleep, "efficiency", 50, 100, true},
		{"tolerance", func(c *Config) { c.SleepDurationToleranceMinutes = 30 }, KindHeartRate, "heart_rate", 15, 300, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tt.edit(&cfg)
			rs, err := NewRules(cfg)
			if err != nil {
				t.Fatal(err)
			}
			r := findRule(t, rs, tt.kind, tt.field, RuleRange)
			if r.Lo != tt.lo || r.Hi != tt.hi {
				t.Errorf("bounds [%v, %v], want [%v, %v]", r.Lo, r.Hi, tt.lo, tt.hi)
			}
			if moved := rs.Version() != base.Version(); moved != tt.versionMoves {
				t.Errorf("version moved=%v, want %v", moved, tt.versionMoves)
			}
		})
	}
}

func TestParseKindAndUUID(t *testing.T) {
	for _, s := range []string{"heart_rate", "HeartRate", "heart_rate_metrics"} {
		if k, err := ParseKind(s); err != nil || k != KindHeartRate {
			t.Errorf("ParseKind(%q) = %v, %v", s, k, err)
		}
	}
	u, err := ParseUUID("B479A3B9-9EF1-4A82-9771-ADFF57432E18")
	if err != nil || u != testUser || u.String() != "b479a3b9-9ef1-4a82-9771-adff57432e18" {
		t.Errorf("ParseUUID: %v %v", u, err)
	}
	for _, bad := range []string{"", "b479a3b9-9ef1-4a82-9771-adff57432e1", "b479a3b9x9ef1-4a82-9771-adff57432e18", "g479a3b9-9ef1-4a82-9771-adff57432e18"} {
		if _, err := ParseUUID(bad); err == nil {
			t.Errorf("ParseUUID(%q) accepted", bad)
		}
	}
}
