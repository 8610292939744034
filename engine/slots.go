package engine

import "fmt"

// A rule reaches a record's field through a slot: numbers, texts and times
// each have slots of their own type, read and written by the record's
// nums/setNum, text/setText and when/setWhen. The constants below name
// every slot, slotsOf says which column each one is, and the rule tables
// take the column, its CHECK and the rule's field name from that, so that
// a record, its rules and its table cannot disagree on a position;
// TestSlotsNameTheirColumns checks each slot against the record's own
// AppendValues.
type (
	numSlot  int
	textSlot int
	timeSlot int
)

// The slots of a HeartRate.
const (
	hrHeartRate numSlot = iota
	hrResting
	hrVariability
)

const (
	hrContext textSlot = iota
	hrSource
)

const hrRecordedAt timeSlot = 0

// The slots of a BloodPressure.
const (
	bpSystolic numSlot = iota
	bpDiastolic
	bpPulse
)

const bpSource textSlot = 0

const bpRecordedAt timeSlot = 0

// The slots of a Sleep; the integer slots come first, in Sleep.ints order.
const (
	slDuration numSlot = iota
	slDeep
	slREM
	slLight
	slAwake
	slEfficiency
)

const slSource textSlot = 0

const (
	slStart timeSlot = iota
	slEnd
)

// The slots of a Workout.
const (
	woEnergy numSlot = iota
	woDistance
	woAvgHeartRate
	woMaxHeartRate
)

const (
	woType textSlot = iota
	woSource
)

const (
	woStart timeSlot = iota
	woEnd
)

// The text and time slots of an Activity and a Nutrition; their number
// slots are the Act* and nutrient indexes into Values.
const (
	widePeriod textSlot = iota
	wideSource
)

const wideRecordedAt timeSlot = 0

// The slots of a Symptom; the texts are in Symptom.texts order.
const symDuration numSlot = 0

const (
	symType textSlot = iota
	symSeverity
	symNotes
	symSource
)

const (
	symRecordedAt timeSlot = iota
	symOnset
)

// slotNames are the columns behind a kind's slots, indexed by slot.
type slotNames struct{ nums, texts, times []string }

// slotsOf names the column of every slot of kind k.
func slotsOf(k Kind) slotNames {
	switch k {
	case KindHeartRate:
		return slotNames{nums: []string{"heart_rate", "resting_heart_rate", "heart_rate_variability"},
			texts: []string{"context", "source"}, times: []string{"recorded_at"}}
	case KindBloodPressure:
		return slotNames{nums: []string{"systolic", "diastolic", "pulse"},
			texts: []string{"source"}, times: []string{"recorded_at"}}
	case KindSleep:
		return slotNames{nums: []string{"duration_minutes", "deep_sleep_minutes", "rem_sleep_minutes",
			"light_sleep_minutes", "awake_minutes", "efficiency"},
			texts: []string{"source"}, times: []string{"sleep_start", "sleep_end"}}
	case KindWorkout:
		return slotNames{nums: []string{"total_energy_kcal", "distance_meters", "avg_heart_rate", "max_heart_rate"},
			texts: []string{"workout_type", "source"}, times: []string{"started_at", "ended_at"}}
	case KindActivity:
		return slotNames{nums: columnNamesOf(activityColumns[:]),
			texts: []string{"aggregation_period", "source"}, times: []string{"recorded_at"}}
	case KindNutrition:
		return slotNames{nums: columnNamesOf(nutrientColumns[:]),
			texts: []string{"aggregation_period", "source"}, times: []string{"recorded_at"}}
	case KindSymptom:
		return slotNames{nums: []string{"duration_minutes"},
			texts: []string{"symptom_type", "severity", "notes", "source"}, times: []string{"recorded_at", "onset_at"}}
	}
	return slotNames{}
}

func columnNamesOf(cols []Column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Name
	}
	return out
}

// column is the column of kind k's table named name. A name that is not
// there is a mistake in this package, caught by its tests.
func column(k Kind, name string) Column {
	for _, c := range tables[k].Columns {
		if c.Name == name {
			return c
		}
	}
	panic(fmt.Sprintf("engine: %s has no column %s", tables[k].Name, name))
}

// numRule is the range rule of number slot s of kind k: its column's CHECK
// intersected with the configured bounds.
func numRule(k Kind, s numSlot, cfgLo, cfgHi float64, env ...string) Rule {
	return rangeRule(column(k, slotsOf(k).nums[s]), int(s), cfgLo, cfgHi, env...)
}

// numField, textField and timeField are the column names of a slot, which
// the rules report as their field.
func numField(k Kind, s numSlot) string   { return slotsOf(k).nums[s] }
func textField(k Kind, s textSlot) string { return slotsOf(k).texts[s] }
func timeField(k Kind, s timeSlot) string { return slotsOf(k).times[s] }
