package engine

import "fmt"

// MetricTypeFamily groups record kinds the way the legacy
// OptimizedDeduplicationStats did. Families are a reporting grouping only:
// counters are kept per Kind so that no kind is double counted.
type MetricTypeFamily uint8

// The nine families, with the numeric values of the legacy repr(u8) enum.
const (
	FamilyCardiovascular MetricTypeFamily = iota // heart rate, blood pressure
	FamilyActivity                               // activity, workouts
	FamilyRest                                   // sleep
	FamilyNutrition
	FamilySymptoms
	FamilyReproductive
	FamilyEnvironmental
	FamilyMental
	FamilyMobility
	NumFamilies = 9
)

var familyNames = [NumFamilies]string{
	"cardiovascular", "activity", "rest", "nutrition", "symptoms",
	"reproductive", "environmental", "mental", "mobility",
}

// String returns the lower-case family name.
func (f MetricTypeFamily) String() string {
	if int(f) < len(familyNames) {
		return familyNames[f]
	}
	return fmt.Sprintf("family(%d)", uint8(f))
}

// Kind identifies a record type, and so a database table. Only kinds with a
// table exist; payload types without one are counted as unsupported.
type Kind uint8

// The seven record kinds.
const (
	KindHeartRate Kind = iota
	KindBloodPressure
	KindSleep
	KindWorkout
	KindActivity
	KindNutrition
	KindSymptom
	NumKinds = 7
)

// Kinds lists every kind in declaration order.
func Kinds() []Kind {
	return []Kind{KindHeartRate, KindBloodPressure, KindSleep, KindWorkout, KindActivity, KindNutrition, KindSymptom}
}

var kindInfo = [NumKinds]struct {
	name, payloadType, table string
	family                   MetricTypeFamily
}{
	{"heart_rate", "HeartRate", "heart_rate_metrics", FamilyCardiovascular},
	{"blood_pressure", "BloodPressure", "blood_pressure_metrics", FamilyCardiovascular},
	{"sleep", "Sleep", "sleep_metrics", FamilyRest},
	{"workout", "Workout", "workouts", FamilyActivity},
	{"activity", "Activity", "activity_metrics_v2", FamilyActivity},
	{"nutrition", "Nutrition", "nutrition_metrics", FamilyNutrition},
	{"symptom", "Symptom", "symptoms", FamilySymptoms},
}

// String returns the snake_case kind name, e.g. "heart_rate".
func (k Kind) String() string {
	if k < NumKinds {
		return kindInfo[k].name
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Family returns the family the kind belongs to.
func (k Kind) Family() MetricTypeFamily { return kindInfo[k].family }

// Table returns the database table of the kind.
func (k Kind) Table() string { return kindInfo[k].table }

// PayloadType returns the "type" tag the ingest payload uses for the kind.
func (k Kind) PayloadType() string { return kindInfo[k].payloadType }

// ParseKind accepts a kind name ("heart_rate"), a payload type ("HeartRate")
// or a table name ("heart_rate_metrics").
func ParseKind(s string) (Kind, error) {
	for k := range Kind(NumKinds) {
		in := kindInfo[k]
		if s == in.name || s == in.payloadType || s == in.table {
			return k, nil
		}
	}
	return 0, fmt.Errorf("unknown record kind %q (want one of heart_rate, blood_pressure, sleep, workout, activity, nutrition, symptom)", s)
}
