package engine

import (
	"math"
	"time"
)

// Realistic value models per kind. Every fresh record they build is valid
// under DefaultRules; TestGeneratorValidity checks that.

var hrContexts = []struct {
	name   string
	weight float64
	lo, hi int
}{
	{"resting", 0.40, 50, 80}, {"sleep", 0.20, 45, 65}, {"active", 0.20, 80, 120},
	{"exercise", 0.10, 110, 180}, {"stress", 0.05, 80, 110}, {"recovery", 0.05, 90, 130},
}

func (g *Generator) heartRate(u UUID, st *stream) Record {
	r := &HeartRate{User: u, RecordedAt: g.advance(st, g.seconds(time.Minute, 10*time.Minute)), Source: "Apple Watch"}
	x := g.rng.Float64()
	c := hrContexts[len(hrContexts)-1]
	for _, cand := range hrContexts {
		if x < cand.weight {
			c = cand
			break
		}
		x -= cand.weight
	}
	r.Context, r.HeartRate = c.name, g.intBetween(c.lo, c.hi)
	if g.chance(0.3) {
		r.RestingHeartRate = Some(g.intBetween(50, 70))
	}
	if g.chance(0.4) {
		r.HeartRateVariability = Some(g.between(20, 120, 2))
	}
	return r
}

func (g *Generator) bloodPressure(u UUID, st *stream) Record {
	r := &BloodPressure{User: u, RecordedAt: g.advance(st, g.seconds(8*time.Hour, 16*time.Hour)),
		Systolic: g.intBetween(100, 140), Diastolic: g.intBetween(60, 90), Source: "Omron"}
	if g.chance(0.7) {
		r.Pulse = Some(g.intBetween(55, 95))
	}
	return r
}

func (g *Generator) sleep(u UUID, st *stream) Record {
	night := g.advance(st, 24*time.Hour)
	day := night.Truncate(24 * time.Hour)
	start := day.Add(22*time.Hour + g.seconds(0, 150*time.Minute)).Add(night.Sub(night.Truncate(time.Second)))
	span := g.seconds(6*time.Hour, 9*time.Hour)
	mins := span.Minutes()
	deep := int32(mins * g.between(0.15, 0.25, 3))
	rem := int32(mins * g.between(0.20, 0.25, 3))
	awake := int32(mins * g.between(0.02, 0.08, 3))
	// The duration is the night's length, give or take the tracker's
	// rounding (never more than the span: the stages end with the night);
	// the stages and the awake time are parts of it, as the service's
	// sleep_duration_consistency CHECK requires, with up to 5 minutes the
	// tracker did not classify.
	duration := int32(mins) - g.intBetween(0, 5)
	return &Sleep{
		User: u, Start: start, End: start.Add(span),
		DurationMinutes: Some(duration),
		DeepMinutes:     Some(deep), REMMinutes: Some(rem), Awake: Some(awake),
		LightMinutes: Some(duration - deep - rem - awake - g.intBetween(0, 5)),
		Efficiency:   Some(g.between(80, 98, 2)), Source: "Apple Watch",
	}
}

var workoutKinds = []struct {
	name             string
	kmhLo, kmhHi     float64
	kcalMin, kcalMax float64
}{
	{"running", 8, 12, 9, 13}, {"cycling", 15, 30, 7, 11}, {"walking", 4, 6, 4, 6}, {"swimming", 1.5, 3, 8, 11},
	{"strength_training", 0, 0, 5, 8}, {"yoga", 0, 0, 3, 5}, {"hiit", 0, 0, 10, 14},
}

func (g *Generator) workout(u UUID, st *stream) Record {
	day := g.advance(st, g.seconds(20*time.Hour, 40*time.Hour))
	wk := workoutKinds[g.rng.IntN(len(workoutKinds))]
	dur := g.seconds(20*time.Minute, 120*time.Minute)
	r := &Workout{User: u, Type: wk.name, Start: day, End: day.Add(dur), Source: "Apple Watch"}
	mins := dur.Minutes()
	r.TotalEnergyKcal = Some(math.Round(mins*g.between(wk.kcalMin, wk.kcalMax, 2)*100) / 100)
	if wk.kmhHi > 0 {
		r.DistanceMeters = Some(math.Round(mins/60*g.between(wk.kmhLo, wk.kmhHi, 2)*1000*100) / 100)
	}
	avg := g.intBetween(110, 160)
	r.AvgHeartRate, r.MaxHeartRate = Some(avg), Some(avg+g.intBetween(10, 30))
	return r
}

// stepsByHour is the mean step count of each hour of the day.
var stepsByHour = [24]float64{
	10, 5, 5, 5, 5, 20, 150, 900, 1400, 800, 600, 700, 1000, 800, 600, 600, 700, 1200, 1100, 800, 500, 300, 150, 40,
}

func (g *Generator) activity(u UUID, st *stream) Record {
	if st.next.Truncate(time.Hour) != st.next {
		st.next = st.next.Truncate(time.Hour).Add(time.Hour)
	}
	t := g.advance(st, time.Hour)
	r := &Activity{User: u, RecordedAt: t, AggregationPeriod: "hourly", Source: "iPhone"}
	steps := math.Round(stepsByHour[t.Hour()] * g.between(0.3, 1.7, 3))
	r.Set(ActStepCount, steps)
	r.Set(ActDistanceWalkingRunning, math.Round(steps*g.between(0.65, 0.85, 3)*100)/100)
	r.Set(ActFlightsClimbed, float64(g.rng.IntN(int(steps/400)+1)))
	r.Set(ActActiveEnergy, math.Round((steps*0.04+g.between(0, 20, 2))*100)/100)
	r.Set(ActBasalEnergy, g.between(50, 80, 2))
	exercise := float64(g.rng.IntN(int(steps/100) + 1))
	r.Set(ActExerciseTime, math.Min(exercise, 60))
	stand := float64(g.rng.IntN(61))
	r.Set(ActStandTime, stand)
	r.Set(ActMoveTime, math.Min(exercise+float64(g.rng.IntN(10)), 60))
	r.StandHourAchieved = stand >= 1
	if g.chance(0.05) {
		r.Set(ActDistanceCycling, g.between(1000, 20000, 2))
	}
	return r
}

var meals = []struct {
	hour, kcalLo, kcalHi float64
}{{7, 300, 600}, {12, 500, 900}, {15, 100, 300}, {18, 600, 1100}}

func (g *Generator) nutrition(u UUID, st *stream) Record {
	m := meals[st.meal%len(meals)]
	st.meal++
	t := g.advance(st, 0)
	day := t.Truncate(24 * time.Hour)
	at := day.Add(time.Duration(m.hour*float64(time.Hour)) + g.seconds(0, 90*time.Minute)).Add(t.Sub(t.Truncate(time.Second)))
	if st.meal%len(meals) == 0 {
		st.next = st.next.Add(24 * time.Hour)
	}
	r := &Nutrition{User: u, RecordedAt: at, AggregationPeriod: "meal", Source: "MyFitnessPal"}
	g.macros(r, g.between(m.kcalLo, m.kcalHi, 2))
	g.micros(r)
	if m.hour == 7 && g.chance(0.7) {
		r.Set(nutrientIndex("caffeine_mg"), g.between(60, 200, 2))
	}
	return r
}

func (g *Generator) macros(r *Nutrition, kcal float64) {
	r.Set(NutEnergy, kcal)
	carbs := kcal * g.between(0.45, 0.55, 3) / 4
	fat := kcal * g.between(0.25, 0.35, 3) / 9
	r.Set(NutCarbohydrates, round2(carbs))
	r.Set(NutProtein, round2(kcal*g.between(0.15, 0.25, 3)/4))
	r.Set(NutFatTotal, round2(fat))
	r.Set(NutFatSaturated, round2(fat*0.3))
	r.Set(NutFatMonounsaturated, round2(fat*0.4))
	r.Set(NutFatPolyunsaturated, round2(fat*0.2))
	r.Set(NutSugar, round2(carbs*g.between(0.2, 0.4, 3)))
	r.Set(NutFiber, g.between(2, 10, 2))
	r.Set(NutSodium, g.between(300, 1500, 2))
	r.Set(NutCholesterol, g.between(0, 300, 2))
	r.Set(NutWater, g.between(100, 600, 2))
}

// micros fills each remaining nutrient half of the time with a value in the
// lower 2% of its range, rounded to the column's scale.
func (g *Generator) micros(r *Nutrition) {
	for i := NutSodium + 1; i < NutrientCount; i++ {
		if g.chance(0.5) {
			c := nutrientColumns[i]
			r.Set(i, g.between(0, c.Hi*0.02, c.Scale))
		}
	}
}

func nutrientIndex(name string) int {
	for i, c := range nutrientColumns {
		if c.Name == name {
			return i
		}
	}
	panic("unknown nutrient " + name)
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

var (
	symptomTriggers   = []string{"stress", "poor_sleep", "caffeine", "alcohol", "weather", "exercise", "screen_time"}
	symptomTreatments = []string{"rest", "hydration", "ibuprofen", "acetaminophen", "antacid", "stretching"}
	severityModel     = []struct {
		name           string
		weight         float64
		durLo, durHigh int
	}{{"mild", 0.5, 10, 120}, {"moderate", 0.35, 60, 480}, {"severe", 0.15, 240, 2880}}
)

func (g *Generator) symptom(u UUID, ui int, st *stream) Record {
	t := g.advance(st, g.seconds(6*time.Hour, 48*time.Hour))
	r := &Symptom{User: u, RecordedAt: t, Type: symptomTypes[g.habits[ui][g.rng.IntN(3)]], Source: "manual"}
	x := g.rng.Float64()
	sev := severityModel[len(severityModel)-1]
	for _, s := range severityModel {
		if x < s.weight {
			sev = s
			break
		}
		x -= s.weight
	}
	dur := g.intBetween(sev.durLo, sev.durHigh)
	r.Severity, r.DurationMinutes = sev.name, Some(dur)
	r.OnsetAt = t.Add(-time.Duration(g.rng.Int64N(int64(dur)+1)) * time.Minute)
	r.Triggers = g.pick(symptomTriggers, g.rng.IntN(3))
	r.Treatments = g.pick(symptomTreatments, g.rng.IntN(3))
	if g.chance(0.1) && len(r.Triggers) > 0 {
		r.Notes = "started after " + r.Triggers[0]
	}
	return r
}

func (g *Generator) pick(from []string, n int) []string {
	if n == 0 {
		return nil
	}
	out := make([]string, 0, n)
	for _, i := range g.rng.Perm(len(from))[:n] {
		out = append(out, from[i])
	}
	return out
}
