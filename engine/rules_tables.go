package engine

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The rule tables, one builder per kind. Rules name the record's fields by
// slot (slots.go), which also gives their column and its CHECK.

func heartRateRules(c Config) []Rule {
	const k = KindHeartRate
	hrEnv := []string{"VALIDATION_HEART_RATE_MIN", "VALIDATION_HEART_RATE_MAX"}
	return []Rule{
		requiredTime(k, hrRecordedAt),
		numRule(k, hrHeartRate, c.HeartRateMin, c.HeartRateMax, hrEnv...),
		numRule(k, hrResting, c.HeartRateMin, c.HeartRateMax, hrEnv...),
		numRule(k, hrVariability, math.Inf(-1), math.Inf(1)),
		enumOf(k, hrContext, heartRateContexts),
		maxLength(k, hrSource, 100),
	}
}

func bloodPressureRules(c Config) []Rule {
	const k = KindBloodPressure
	return []Rule{
		requiredTime(k, bpRecordedAt),
		numRule(k, bpSystolic, c.SystolicMin, c.SystolicMax, "VALIDATION_SYSTOLIC_MIN", "VALIDATION_SYSTOLIC_MAX"),
		numRule(k, bpDiastolic, c.DiastolicMin, c.DiastolicMax, "VALIDATION_DIASTOLIC_MIN", "VALIDATION_DIASTOLIC_MAX"),
		numRule(k, bpPulse, c.HeartRateMin, c.HeartRateMax, "VALIDATION_HEART_RATE_MIN", "VALIDATION_HEART_RATE_MAX"),
		cross(numField(k, bpSystolic), "systolic > diastolic", 0,
			func(r Record, _ *Rule) bool { bp := r.(*BloodPressure); return bp.Systolic > bp.Diastolic },
			func(r Record) string {
				bp := r.(*BloodPressure)
				return fmt.Sprintf("%d/%d", bp.Systolic, bp.Diastolic)
			}),
		maxLength(k, bpSource, 100),
	}
}

func sleepRules(c Config) []Rule {
	const k = KindSleep
	rules := []Rule{requiredTime(k, slStart), requiredTime(k, slEnd)}
	for _, s := range []numSlot{slDuration, slDeep, slREM, slLight, slAwake} {
		rules = append(rules, numRule(k, s, math.Inf(-1), math.Inf(1)))
	}
	return append(rules,
		numRule(k, slEfficiency, c.SleepEfficiencyMin, c.SleepEfficiencyMax,
			"VALIDATION_SLEEP_EFFICIENCY_MIN", "VALIDATION_SLEEP_EFFICIENCY_MAX"),
		cross(timeField(k, slEnd), "sleep_end > sleep_start", 0, sleepOrdered, sleepSpan),
		cross(numField(k, slDeep), "deep + rem + awake <= sleep_end - sleep_start", 0, sleepStagesFit, showStages),
		// The service's sleep_duration_consistency CHECK: the stages and the
		// awake time are parts of the duration, so their sum cannot exceed it.
		cross(numField(k, slDuration), SleepDurationConsistency, 0, sleepDurationCovers, showCover),
		withEnv(cross(numField(k, slDuration), fmt.Sprintf("duration within %g min of sleep_end - sleep_start",
			c.SleepDurationToleranceMinutes), c.SleepDurationToleranceMinutes, sleepDurationFits, showDuration),
			"VALIDATION_SLEEP_DURATION_TOLERANCE_MINUTES"),
		maxLength(k, slSource, 100),
	)
}

func workoutRules(c Config) []Rule {
	const k = KindWorkout
	whr := []string{"VALIDATION_WORKOUT_HEART_RATE_MIN", "VALIDATION_WORKOUT_HEART_RATE_MAX"}
	return []Rule{
		requiredText(k, woType),
		maxLength(k, woType, 50),
		requiredTime(k, woStart),
		requiredTime(k, woEnd),
		numRule(k, woEnergy, math.Inf(-1), c.CaloriesMax, "VALIDATION_CALORIES_MAX"),
		numRule(k, woDistance, math.Inf(-1), c.DistanceMaxKM*1000, "VALIDATION_DISTANCE_MAX_KM"),
		numRule(k, woAvgHeartRate, c.WorkoutHeartRateMin, c.WorkoutHeartRateMax, whr...),
		numRule(k, woMaxHeartRate, c.WorkoutHeartRateMin, c.WorkoutHeartRateMax, whr...),
		cross(timeField(k, woEnd), "ended_at > started_at", 0, workoutOrdered, workoutSpan),
		withEnv(cross(timeField(k, woEnd), fmt.Sprintf("duration <= %g h", c.WorkoutMaxDurationHours),
			c.WorkoutMaxDurationHours, workoutShortEnough, workoutSpan), "VALIDATION_WORKOUT_MAX_DURATION_HOURS"),
		maxLength(k, woSource, 100),
	}
}

// activityRules follows the database CHECKs. Of the original app's
// settings only step count and calories apply: its distance_max_km capped
// every distance at 500 km, which would refuse cycling distances the DB
// accepts, so distances keep their per-column DB bounds.
func activityRules(c Config) []Rule {
	const k = KindActivity
	rules := []Rule{requiredTime(k, wideRecordedAt)}
	for i := range activityColumns {
		lo, hi := math.Inf(-1), math.Inf(1)
		var env []string
		switch i {
		case ActStepCount:
			lo, hi, env = c.StepCountMin, c.StepCountMax, []string{"VALIDATION_STEP_COUNT_MIN", "VALIDATION_STEP_COUNT_MAX"}
		case ActActiveEnergy:
			hi, env = c.CaloriesMax, []string{"VALIDATION_CALORIES_MAX"}
		}
		rules = append(rules, numRule(k, numSlot(i), lo, hi, env...))
	}
	return append(rules, enumOf(k, widePeriod, activityPeriods), maxLength(k, wideSource, 100))
}

// nutritionRules checks all 39 nutrient ranges; the original app checked 4.
func nutritionRules(Config) []Rule {
	const k = KindNutrition
	rules := []Rule{requiredTime(k, wideRecordedAt)}
	for i := range nutrientColumns {
		rules = append(rules, numRule(k, numSlot(i), math.Inf(-1), math.Inf(1)))
	}
	return append(rules, enumOf(k, widePeriod, nutritionPeriods), maxLength(k, wideSource, 100))
}

// symptomRules mirrors the symptoms CHECKs. The two time checks use now()
// in the database, so their bounds move with the clock on both sides.
func symptomRules(Config) []Rule {
	const k = KindSymptom
	return []Rule{
		requiredTime(k, symRecordedAt),
		timeRule(k, symRecordedAt, time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), 24*time.Hour),
		requiredText(k, symType),
		enumOf(k, symType, symptomTypes[:]),
		enumOf(k, symSeverity, symptomSeverities),
		numRule(k, symDuration, math.Inf(-1), math.Inf(1)),
		timeRule(k, symOnset, time.Time{}, 0),
		maxLength(k, symSource, 100),
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

// enumOf is the enumeration rule of text slot s of kind k.
func enumOf(k Kind, s textSlot, allowed []string) Rule {
	return enumRule(textField(k, s), int(s), allowed)
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

func maxLength(k Kind, s textSlot, n int) Rule {
	return Rule{Field: textField(k, s), slot: int(s), Kind: RuleMaxLength, HasCheck: true, MaxLength: n, Nullable: true,
		Desc: "at most " + strconv.Itoa(n) + " characters", src: srcText}
}

func requiredText(k Kind, s textSlot) Rule {
	return Rule{Field: textField(k, s), Kind: RuleRequired, HasCheck: true, Desc: "required", src: srcText, slot: int(s)}
}

func requiredTime(k Kind, s timeSlot) Rule {
	return Rule{Field: timeField(k, s), Kind: RuleRequired, HasCheck: true, Desc: "required", src: srcTime, slot: int(s)}
}

func timeRule(k Kind, s timeSlot, earliest time.Time, latest time.Duration) Rule {
	desc := "not after now"
	if latest > 0 {
		desc = "not after now + " + latest.String()
	}
	if !earliest.IsZero() {
		desc = "from " + earliest.Format("2006-01-02") + ", " + desc
	}
	return Rule{Field: timeField(k, s), Kind: RuleTime, HasCheck: true, Earliest: earliest, Latest: latest, HasLatest: true,
		Nullable: true, Desc: desc, src: srcTime, slot: int(s)}
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
