package engine

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The rule tables, one builder per kind. Slots refer to the record's
// nums/text/when accessors (see record_*.go).

func heartRateRules(c Config) []Rule {
	cols := tables[KindHeartRate].Columns
	hrEnv := []string{"VALIDATION_HEART_RATE_MIN", "VALIDATION_HEART_RATE_MAX"}
	return []Rule{
		requiredTime("recorded_at", 0),
		rangeRule(cols[2], 0, c.HeartRateMin, c.HeartRateMax, hrEnv...),
		rangeRule(cols[3], 1, c.HeartRateMin, c.HeartRateMax, hrEnv...),
		rangeRule(cols[4], 2, math.Inf(-1), math.Inf(1)),
		enumRule("context", 0, heartRateContexts),
		maxLength("source", 1, 100),
	}
}

func bloodPressureRules(c Config) []Rule {
	cols := tables[KindBloodPressure].Columns
	return []Rule{
		requiredTime("recorded_at", 0),
		rangeRule(cols[2], 0, c.SystolicMin, c.SystolicMax, "VALIDATION_SYSTOLIC_MIN", "VALIDATION_SYSTOLIC_MAX"),
		rangeRule(cols[3], 1, c.DiastolicMin, c.DiastolicMax, "VALIDATION_DIASTOLIC_MIN", "VALIDATION_DIASTOLIC_MAX"),
		rangeRule(cols[4], 2, c.HeartRateMin, c.HeartRateMax, "VALIDATION_HEART_RATE_MIN", "VALIDATION_HEART_RATE_MAX"),
		cross("systolic", "systolic > diastolic", 0,
			func(r Record, _ *Rule) bool { bp := r.(*BloodPressure); return bp.Systolic > bp.Diastolic },
			func(r Record) string {
				bp := r.(*BloodPressure)
				return fmt.Sprintf("%d/%d", bp.Systolic, bp.Diastolic)
			}),
		maxLength("source", 0, 100),
	}
}

func sleepRules(c Config) []Rule {
	cols := tables[KindSleep].Columns
	rules := []Rule{requiredTime("sleep_start", 0), requiredTime("sleep_end", 1)}
	for i := range 5 {
		rules = append(rules, rangeRule(cols[3+i], i, math.Inf(-1), math.Inf(1)))
	}
	return append(rules,
		rangeRule(cols[8], 5, c.SleepEfficiencyMin, c.SleepEfficiencyMax,
			"VALIDATION_SLEEP_EFFICIENCY_MIN", "VALIDATION_SLEEP_EFFICIENCY_MAX"),
		cross("sleep_end", "sleep_end > sleep_start", 0, sleepOrdered, sleepSpan),
		cross("deep_sleep_minutes", "deep + rem + awake <= sleep_end - sleep_start", 0, sleepStagesFit, showStages),
		// The service's sleep_duration_consistency CHECK: the stages and the
		// awake time are parts of the duration, so their sum cannot exceed it.
		cross("duration_minutes", SleepDurationConsistency, 0, sleepDurationCovers, showCover),
		withEnv(cross("duration_minutes", fmt.Sprintf("duration within %g min of sleep_end - sleep_start",
			c.SleepDurationToleranceMinutes), c.SleepDurationToleranceMinutes, sleepDurationFits, showDuration),
			"VALIDATION_SLEEP_DURATION_TOLERANCE_MINUTES"),
		maxLength("source", 0, 100),
	)
}

func workoutRules(c Config) []Rule {
	cols := tables[KindWorkout].Columns
	whr := []string{"VALIDATION_WORKOUT_HEART_RATE_MIN", "VALIDATION_WORKOUT_HEART_RATE_MAX"}
	return []Rule{
		requiredText("workout_type", 0),
		maxLength("workout_type", 0, 50),
		requiredTime("started_at", 0),
		requiredTime("ended_at", 1),
		rangeRule(cols[4], 0, math.Inf(-1), c.CaloriesMax, "VALIDATION_CALORIES_MAX"),
		rangeRule(cols[5], 1, math.Inf(-1), c.DistanceMaxKM*1000, "VALIDATION_DISTANCE_MAX_KM"),
		rangeRule(cols[6], 2, c.WorkoutHeartRateMin, c.WorkoutHeartRateMax, whr...),
		rangeRule(cols[7], 3, c.WorkoutHeartRateMin, c.WorkoutHeartRateMax, whr...),
		cross("ended_at", "ended_at > started_at", 0, workoutOrdered, workoutSpan),
		withEnv(cross("ended_at", fmt.Sprintf("duration <= %g h", c.WorkoutMaxDurationHours),
			c.WorkoutMaxDurationHours, workoutShortEnough, workoutSpan), "VALIDATION_WORKOUT_MAX_DURATION_HOURS"),
		maxLength("source", 1, 100),
	}
}

// activityRules follows the database CHECKs. Of the original app's
// settings only step count and calories apply: its distance_max_km capped
// every distance at 500 km, which would refuse cycling distances the DB
// accepts, so distances keep their per-column DB bounds.
func activityRules(c Config) []Rule {
	rules := []Rule{requiredTime("recorded_at", 0)}
	for i, col := range activityColumns {
		lo, hi := math.Inf(-1), math.Inf(1)
		var env []string
		switch i {
		case ActStepCount:
			lo, hi, env = c.StepCountMin, c.StepCountMax, []string{"VALIDATION_STEP_COUNT_MIN", "VALIDATION_STEP_COUNT_MAX"}
		case ActActiveEnergy:
			hi, env = c.CaloriesMax, []string{"VALIDATION_CALORIES_MAX"}
		}
		rules = append(rules, rangeRule(col, i, lo, hi, env...))
	}
	return append(rules, enumRule("aggregation_period", 0, activityPeriods), maxLength("source", 1, 100))
}

// nutritionRules checks all 39 nutrient ranges; the original app checked 4.
func nutritionRules(Config) []Rule {
	rules := []Rule{requiredTime("recorded_at", 0)}
	for i, col := range nutrientColumns {
		rules = append(rules, rangeRule(col, i, math.Inf(-1), math.Inf(1)))
	}
	return append(rules, enumRule("aggregation_period", 0, nutritionPeriods), maxLength("source", 1, 100))
}

// symptomRules mirrors the symptoms CHECKs. The two time checks use now()
// in the database, so their bounds move with the clock on both sides.
func symptomRules(Config) []Rule {
	cols := tables[KindSymptom].Columns
	return []Rule{
		requiredTime("recorded_at", 0),
		timeRule("recorded_at", 0, time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), 24*time.Hour),
		requiredText("symptom_type", 0),
		enumRule("symptom_type", 0, symptomTypes[:]),
		enumRule("severity", 1, symptomSeverities),
		rangeRule(cols[4], 0, math.Inf(-1), math.Inf(1)),
		timeRule("onset_at", 1, time.Time{}, 0),
		maxLength("source", 3, 100),
	}
}

// rangeRule intersects the column's CHECK with the configured bounds, then
// rounds the result inward to what the column can hold.
func rangeRule(col Column, slot int, cfgLo, cfgHi float64, env ...string) Rule {
	step := 0.01
	switch col.Scale {
	case 0:
		step = 1
	case 3:
		step = 0.001
	}
	lo, hi := math.Max(col.Lo, cfgLo), math.Min(col.Hi, cfgHi)
	lo, hi = math.Ceil(lo/step-1e-9)*step, math.Floor(hi/step+1e-9)*step
	lo, hi = roundStep(lo, step), roundStep(hi, step)
	r := Rule{
		Field: col.Name, Kind: RuleRange, Lo: lo, Hi: hi, HasCheck: true, DBLo: col.Lo, DBHi: col.Hi,
		NoUpperBound: col.Hi == noHi, Step: step, Scale: col.Scale, Integer: col.Scale == 0,
		Nullable: col.Nullable, Env: env, src: srcNum, slot: slot,
	}
	r.Desc = rangeDesc(r)
	return r
}

func enumRule(field string, slot int, allowed []string) Rule {
	r := Rule{Field: field, Kind: RuleEnum, HasCheck: true, Allowed: allowed, Nullable: true, src: srcText, slot: slot}
	r.Desc = "one of {" + strings.Join(allowed, ", ") + "}"
	if len(allowed) > 8 {
		r.Desc = fmt.Sprintf("one of the %d allowed values", len(allowed))
		r.set = make(map[string]uint16, len(allowed))
		for i, a := range allowed {
			r.set[a] = uint16(i)
		}
	}
	return r
}

func maxLength(field string, slot, n int) Rule {
	return Rule{Field: field, Kind: RuleMaxLength, HasCheck: true, MaxLength: n, Nullable: true,
		Desc: "at most " + strconv.Itoa(n) + " characters", src: srcText, slot: slot}
}

func requiredText(field string, slot int) Rule {
	return Rule{Field: field, Kind: RuleRequired, HasCheck: true, Desc: "required", src: srcText, slot: slot}
}

func requiredTime(field string, slot int) Rule {
	return Rule{Field: field, Kind: RuleRequired, HasCheck: true, Desc: "required", src: srcTime, slot: slot}
}

func timeRule(field string, slot int, earliest time.Time, latest time.Duration) Rule {
	desc := "not after now"
	if latest > 0 {
		desc = "not after now + " + latest.String()
	}
	if !earliest.IsZero() {
		desc = "from " + earliest.Format("2006-01-02") + ", " + desc
	}
	return Rule{Field: field, Kind: RuleTime, HasCheck: true, Earliest: earliest, Latest: latest, HasLatest: true,
		Nullable: true, Desc: desc, src: srcTime, slot: slot}
}

func cross(field, desc string, param float64, check func(Record, *Rule) bool, show func(Record) string) Rule {
	return Rule{Field: field, Kind: RuleCrossField, Hi: param, Desc: desc, src: srcNone, check: check, show: show}
}

func withEnv(r Rule, env ...string) Rule { r.Env = env; return r }

func fmtNum(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func sleepOrdered(r Record, _ *Rule) bool {
	s := r.(*Sleep)
	return s.Start.IsZero() || s.End.IsZero() || s.End.After(s.Start) // zero: reported by required
}

func sleepSpan(r Record) string {
	s := r.(*Sleep)
	return fmt.Sprintf("%s to %s", s.Start.Format(time.RFC3339Nano), s.End.Format(time.RFC3339Nano))
}

func sleepStages(s *Sleep) int64 {
	sum := int64(0)
	for _, o := range [...]Opt[int32]{s.DeepMinutes, s.REMMinutes, s.Awake} {
		if o.Valid {
			sum += int64(o.V)
		}
	}
	return sum
}

func sleepStagesFit(r Record, _ *Rule) bool {
	s := r.(*Sleep)
	return !s.End.After(s.Start) || float64(sleepStages(s)) <= s.End.Sub(s.Start).Minutes()
}

func showStages(r Record) string {
	s := r.(*Sleep)
	return fmt.Sprintf("%d > %g", sleepStages(s), s.End.Sub(s.Start).Minutes())
}

// SleepDurationConsistency is the description of the rule that mirrors the
// service's sleep_duration_consistency CHECK; queries/catalog maps the
// constraint to it by this text.
const SleepDurationConsistency = "duration >= deep + rem + light + awake"

// sleepAllStages is deep + rem + light + awake, NULLs counting 0 as the
// CHECK's COALESCE does.
func sleepAllStages(s *Sleep) int64 {
	sum := sleepStages(s)
	if s.LightMinutes.Valid {
		sum += int64(s.LightMinutes.V)
	}
	return sum
}

// sleepDurationCovers holds when the duration is NULL (a CHECK on NULL
// passes; duration's NOT NULL is the live table's own rule) or at least
// the sum of the stages.
func sleepDurationCovers(r Record, _ *Rule) bool {
	s := r.(*Sleep)
	return !s.DurationMinutes.Valid || int64(s.DurationMinutes.V) >= sleepAllStages(s)
}

func showCover(r Record) string {
	s := r.(*Sleep)
	return fmt.Sprintf("%d < %d", s.DurationMinutes.V, sleepAllStages(s))
}

func sleepDurationFits(r Record, rule *Rule) bool {
	s := r.(*Sleep)
	if !s.DurationMinutes.Valid || !s.End.After(s.Start) {
		return true
	}
	return math.Abs(float64(s.DurationMinutes.V)-s.End.Sub(s.Start).Minutes()) <= rule.Hi
}

func showDuration(r Record) string {
	s := r.(*Sleep)
	return fmt.Sprintf("%d vs %g", s.DurationMinutes.V, s.End.Sub(s.Start).Minutes())
}

func workoutOrdered(r Record, _ *Rule) bool {
	w := r.(*Workout)
	return w.Start.IsZero() || w.End.IsZero() || w.End.After(w.Start)
}

func workoutShortEnough(r Record, rule *Rule) bool {
	w := r.(*Workout)
	return !w.End.After(w.Start) || w.End.Sub(w.Start).Hours() <= rule.Hi
}

func workoutSpan(r Record) string {
	w := r.(*Workout)
	return w.End.Sub(w.Start).String()
}
