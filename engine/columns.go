package engine

import "math"

// Column describes one column of a target table, in COPY order. It is what a
// writer needs to build the COPY column list and to format values exactly.
type Column struct {
	Name    string
	SQLType string // as written in the DDL, e.g. "NUMERIC(8,2)"
	// Nullable is false for NOT NULL columns.
	Nullable bool
	// Checked is true when the database has a range CHECK on the column;
	// Lo and Hi are then its inclusive bounds.
	Checked bool
	Lo, Hi  float64
	// Scale is the number of decimal digits the column keeps: 0 for integers,
	// s for NUMERIC(p,s), -1 for an unconstrained NUMERIC or a non-number.
	Scale int
}

// Table describes a target table: its name, its columns in COPY order and the
// columns of its unique key (the ON CONFLICT target).
type Table struct {
	Kind    Kind
	Name    string
	Columns []Column
	Key     []string
}

// ColumnNames returns the column names in COPY order.
func (t *Table) ColumnNames() []string {
	out := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		out[i] = c.Name
	}
	return out
}

// noHi marks a column whose CHECK has only a lower bound.
const noHi = math.MaxInt32

func colUser() Column { return Column{Name: "user_id", SQLType: "UUID", Scale: -1} }
func colTime(name string, nullable bool) Column {
	return Column{Name: name, SQLType: "TIMESTAMPTZ", Nullable: nullable, Scale: -1}
}
func colSource() Column {
	return Column{Name: "source", SQLType: "VARCHAR(100)", Nullable: true, Scale: -1}
}
func colText(name, typ string, nullable bool) Column {
	return Column{Name: name, SQLType: typ, Nullable: nullable, Scale: -1}
}
func colInt(name string, nullable bool, lo, hi float64) Column {
	return Column{Name: name, SQLType: "INTEGER", Nullable: nullable, Checked: true, Lo: lo, Hi: hi}
}
func colNum(name, typ string, scale int, lo, hi float64) Column {
	return Column{Name: name, SQLType: typ, Nullable: true, Checked: true, Lo: lo, Hi: hi, Scale: scale}
}

// Enumerations shared by the rules, the generator and the decoder.
var (
	heartRateContexts      = []string{"resting", "exercise", "sleep", "stress", "recovery", "active"}
	activityPeriods        = []string{"minute", "hourly", "daily", "weekly"}
	nutritionPeriods       = []string{"meal", "daily", "weekly"}
	symptomSeverities      = []string{"not_present", "mild", "moderate", "severe"}
	defaultActivityPeriod  = "hourly"
	defaultNutritionPeriod = "daily"
	defaultSeverity        = "not_present"
	defaultSymptomSource   = "manual"
)

// SymptomTypes returns the 68 values the symptoms.symptom_type CHECK allows,
// in the order of the original migration. The index of a value is its dedup
// key part.
func SymptomTypes() []string { return append([]string(nil), symptomTypes[:]...) }

var symptomTypes = [68]string{
	// general / constitutional
	"fever", "fatigue", "weakness", "night_sweats", "chills", "malaise", "appetite_loss", "weight_loss", "weight_gain",
	// head / neurological
	"headache", "dizziness", "lightheadedness", "confusion", "memory_issues", "concentration_difficulty", "mood_changes", "anxiety", "depression",
	// respiratory
	"cough", "shortness_of_breath", "chest_tightness_or_pain", "wheezing", "runny_nose", "sinus_congestion", "sneezing", "sore_throat",
	// gastrointestinal
	"nausea", "vomiting", "abdominal_cramps", "bloating", "diarrhea", "constipation", "heartburn", "acid_reflux", "stomach_pain", "gas", "indigestion",
	// musculoskeletal / pain
	"body_and_muscle_aches", "joint_pain", "back_pain", "neck_pain", "muscle_cramps", "stiffness", "swelling",
	// skin
	"dry_skin", "rash", "itching", "acne", "skin_irritation",
	// genitourinary / reproductive
	"pelvic_pain", "vaginal_dryness", "bladder_incontinence", "frequent_urination", "painful_urination",
	// sleep
	"sleep_changes", "insomnia", "excessive_sleepiness", "sleep_disturbances",
	// sensory
	"vision_changes", "hearing_changes", "taste_changes", "smell_changes",
	// other
	"hot_flashes", "cold_intolerance", "heat_intolerance", "hair_loss", "tremor", "irregular_heartbeat",
}

var symptomIndex = func() map[string]uint16 {
	m := make(map[string]uint16, len(symptomTypes))
	for i, s := range symptomTypes {
		m[s] = uint16(i)
	}
	return m
}()

// NutrientCount is the number of nutrient columns of nutrition_metrics.
const NutrientCount = 39

// nutrientColumns lists the 39 nutrient columns in table order, with the
// database's inclusive CHECK ranges and NUMERIC scales, as the service's
// nutrition_metrics table declares them.
var nutrientColumns = [NutrientCount]Column{
	colNum("water_ml", "NUMERIC(8,2)", 2, 0, 20000),
	colNum("energy_consumed_kcal", "NUMERIC(8,2)", 2, 0, 20000),
	colNum("carbohydrates_g", "NUMERIC(8,2)", 2, 0, 3000),
	colNum("protein_g", "NUMERIC(8,2)", 2, 0, 1000),
	colNum("fat_total_g", "NUMERIC(8,2)", 2, 0, 1000),
	colNum("fat_saturated_g", "NUMERIC(8,2)", 2, 0, 500),
	colNum("fat_monounsaturated_g", "NUMERIC(8,2)", 2, 0, 500),
	colNum("fat_polyunsaturated_g", "NUMERIC(8,2)", 2, 0, 500),
	colNum("cholesterol_mg", "NUMERIC(8,2)", 2, 0, 5000),
	colNum("fiber_g", "NUMERIC(8,2)", 2, 0, 200),
	colNum("sugar_g", "NUMERIC(8,2)", 2, 0, 2000),
	colNum("sodium_mg", "NUMERIC(8,2)", 2, 0, 50000),
	colNum("vitamin_a_mcg", "NUMERIC(8,2)", 2, 0, 10000),
	colNum("vitamin_d_mcg", "NUMERIC(8,2)", 2, 0, 1000),
	colNum("vitamin_e_mg", "NUMERIC(8,2)", 2, 0, 2000),
	colNum("vitamin_k_mcg", "NUMERIC(8,2)", 2, 0, 5000),
	colNum("vitamin_c_mg", "NUMERIC(8,2)", 2, 0, 5000),
	colNum("thiamin_mg", "NUMERIC(8,3)", 3, 0, 100),
	colNum("riboflavin_mg", "NUMERIC(8,3)", 3, 0, 100),
	colNum("niacin_mg", "NUMERIC(8,2)", 2, 0, 1000),
	colNum("pantothenic_acid_mg", "NUMERIC(8,3)", 3, 0, 100),
	colNum("vitamin_b6_mg", "NUMERIC(8,3)", 3, 0, 500),
	colNum("biotin_mcg", "NUMERIC(8,2)", 2, 0, 10000),
	colNum("folate_mcg", "NUMERIC(8,2)", 2, 0, 5000),
	colNum("vitamin_b12_mcg", "NUMERIC(8,2)", 2, 0, 5000),
	colNum("calcium_mg", "NUMERIC(8,2)", 2, 0, 10000),
	colNum("phosphorus_mg", "NUMERIC(8,2)", 2, 0, 10000),
	colNum("magnesium_mg", "NUMERIC(8,2)", 2, 0, 5000),
	colNum("potassium_mg", "NUMERIC(8,2)", 2, 0, 20000),
	colNum("chloride_mg", "NUMERIC(8,2)", 2, 0, 20000),
	colNum("iron_mg", "NUMERIC(8,3)", 3, 0, 200),
	colNum("zinc_mg", "NUMERIC(8,3)", 3, 0, 200),
	colNum("copper_mg", "NUMERIC(8,3)", 3, 0, 50),
	colNum("manganese_mg", "NUMERIC(8,3)", 3, 0, 50),
	colNum("iodine_mcg", "NUMERIC(8,2)", 2, 0, 5000),
	colNum("selenium_mcg", "NUMERIC(8,2)", 2, 0, 2000),
	colNum("chromium_mcg", "NUMERIC(8,2)", 2, 0, 2000),
	colNum("molybdenum_mcg", "NUMERIC(8,2)", 2, 0, 5000),
	colNum("caffeine_mg", "NUMERIC(8,2)", 2, 0, 2000),
}

// ActivityFieldCount is the number of measured columns of activity_metrics_v2.
const ActivityFieldCount = 15

// activityColumns lists the 15 measured columns of activity_metrics_v2 with
// the database's CHECK ranges. The database is the source of truth: the
// original app disagreed (it capped every distance at 500 km, so it
// refused cycling the DB allows and allowed swimming and snow-sport distances
// the DB refuses). We follow the DB.
var activityColumns = [ActivityFieldCount]Column{
	colInt("step_count", true, 0, 200000),
	colInt("flights_climbed", true, 0, 10000),
	colNum("distance_walking_running_meters", "NUMERIC(10,2)", 2, 0, 500000),
	colNum("distance_cycling_meters", "NUMERIC(10,2)", 2, 0, 1000000),
	colNum("distance_swimming_meters", "NUMERIC(10,2)", 2, 0, 50000),
	colNum("distance_wheelchair_meters", "NUMERIC(10,2)", 2, 0, 500000),
	colNum("distance_downhill_snow_sports_meters", "NUMERIC(10,2)", 2, 0, 200000),
	colInt("push_count", true, 0, 50000),
	colInt("swimming_stroke_count", true, 0, 100000),
	colNum("nike_fuel", "NUMERIC(8,2)", 2, 0, 50000),
	colNum("active_energy_burned_kcal", "NUMERIC(8,2)", 2, 0, 20000),
	colNum("basal_energy_burned_kcal", "NUMERIC(8,2)", 2, 0, 10000),
	colInt("exercise_time_minutes", true, 0, 1440),
	colInt("stand_time_minutes", true, 0, 1440),
	colInt("move_time_minutes", true, 0, 1440),
}

// Indexes into Activity.Values, in column order.
const (
	ActStepCount = iota
	ActFlightsClimbed
	ActDistanceWalkingRunning
	ActDistanceCycling
	ActDistanceSwimming
	ActDistanceWheelchair
	ActDistanceSnowSports
	ActPushCount
	ActSwimmingStrokeCount
	ActNikeFuel
	ActActiveEnergy
	ActBasalEnergy
	ActExerciseTime
	ActStandTime
	ActMoveTime
)

// Indexes into Nutrition.Values for the nutrients the generator and tests
// name; the rest follow the column order of NutrientColumns.
const (
	NutWater = iota
	NutEnergy
	NutCarbohydrates
	NutProtein
	NutFatTotal
	NutFatSaturated
	NutFatMonounsaturated
	NutFatPolyunsaturated
	NutCholesterol
	NutFiber
	NutSugar
	NutSodium
)

// NutrientColumns returns the 39 nutrient column descriptors in table order.
func NutrientColumns() []Column { return append([]Column(nil), nutrientColumns[:]...) }

// ActivityColumns returns the 15 measured activity column descriptors.
func ActivityColumns() []Column { return append([]Column(nil), activityColumns[:]...) }

var tables = [NumKinds]*Table{
	KindHeartRate: {Kind: KindHeartRate, Name: "heart_rate_metrics", Key: []string{"user_id", "recorded_at"}, Columns: []Column{
		colUser(), colTime("recorded_at", false),
		colInt("heart_rate", false, 15, 300),
		colInt("resting_heart_rate", true, 15, 300),
		colNum("heart_rate_variability", "NUMERIC", -1, 0, 500),
		colText("context", "VARCHAR(50)", true),
		colSource(),
	}},
	KindBloodPressure: {Kind: KindBloodPressure, Name: "blood_pressure_metrics", Key: []string{"user_id", "recorded_at"}, Columns: []Column{
		colUser(), colTime("recorded_at", false),
		colInt("systolic", false, 50, 250),
		colInt("diastolic", false, 30, 150),
		colInt("pulse", true, 15, 300),
		colSource(),
	}},
	KindSleep: {Kind: KindSleep, Name: "sleep_metrics", Key: []string{"user_id", "sleep_start", "sleep_end"}, Columns: []Column{
		colUser(), colTime("sleep_start", false), colTime("sleep_end", false),
		colInt("duration_minutes", true, 0, 1440),
		colInt("deep_sleep_minutes", true, 0, noHi),
		colInt("rem_sleep_minutes", true, 0, noHi),
		colInt("light_sleep_minutes", true, 0, noHi),
		colInt("awake_minutes", true, 0, noHi),
		colNum("efficiency", "NUMERIC(5,2)", 2, 0, 100),
		colSource(),
	}},
	KindWorkout: {Kind: KindWorkout, Name: "workouts", Key: []string{"user_id", "started_at"}, Columns: []Column{
		colUser(), colText("workout_type", "VARCHAR(50)", false),
		colTime("started_at", false), colTime("ended_at", false),
		colNum("total_energy_kcal", "NUMERIC", -1, 0, 20000),
		colNum("distance_meters", "NUMERIC", -1, 0, 500000),
		colInt("avg_heart_rate", true, 15, 300),
		colInt("max_heart_rate", true, 15, 300),
		colSource(),
	}},
	KindActivity: {Kind: KindActivity, Name: "activity_metrics_v2", Key: []string{"user_id", "recorded_at"}, Columns: withEnds(
		[]Column{colUser(), colTime("recorded_at", false)}, activityColumns[:],
		Column{Name: "stand_hour_achieved", SQLType: "BOOLEAN", Nullable: true, Scale: -1},
		colText("aggregation_period", "VARCHAR(20)", true), colSource())},
	KindNutrition: {Kind: KindNutrition, Name: "nutrition_metrics", Key: []string{"user_id", "recorded_at"}, Columns: withEnds(
		[]Column{colUser(), colTime("recorded_at", false)}, nutrientColumns[:],
		colText("aggregation_period", "VARCHAR(20)", true), colSource())},
	KindSymptom: {Kind: KindSymptom, Name: "symptoms", Key: []string{"user_id", "recorded_at", "symptom_type"}, Columns: []Column{
		colUser(), colTime("recorded_at", false),
		colText("symptom_type", "VARCHAR(50)", false),
		colText("severity", "VARCHAR(20)", false),
		colInt("duration_minutes", true, 0, 10080),
		colTime("onset_at", true),
		colText("notes", "TEXT", true),
		colText("triggers", "JSONB", true),
		colText("treatments", "JSONB", true),
		colSource(),
	}},
}

func withEnds(head, mid []Column, tail ...Column) []Column {
	out := append(append(append([]Column(nil), head...), mid...), tail...)
	return out
}

// columnNames caches the COPY column lists, so Record.Columns never allocates.
var columnNames = func() (out [NumKinds][]string) {
	for k, t := range tables {
		out[k] = t.ColumnNames()
	}
	return out
}()

// TableOf returns the descriptor of the kind's table. Callers must not modify it.
func TableOf(k Kind) *Table { return tables[k] }
