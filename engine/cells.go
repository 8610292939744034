package engine

import (
	"strings"
	"time"
)

// CellKind is the Go type AppendValues gives a column's non-NULL values,
// and so which of the typed accessors below reads it.
type CellKind uint8

// The kinds of column value.
const (
	CellUUID    CellKind = iota // UUIDAt ([16]byte in AppendValues)
	CellTime                    // TimeAt (time.Time)
	CellInt                     // NumAt (int32; whole, so exact as a float64)
	CellNum                     // NumAt (float64)
	CellBool                    // BoolAt (bool)
	CellText                    // TextAt (string)
	CellStrings                 // StringsAt ([]string, a JSON array)
)

// The typed accessors (UUIDAt, TimeAt, NumAt, BoolAt, TextAt, StringsAt)
// read column i of a record, in Columns order, without boxing it in an
// interface: the values AppendValues appends, defaults and NULLs applied
// alike (ok is false for NULL), for writers that encode values
// themselves. Each must be called for a column of its kind (CellKinds):
// for a column of another kind what it returns means nothing.

// CellKinds returns the kind of each of the kind's columns, in Columns
// order. The slice is shared: do not modify it.
func CellKinds(k Kind) []CellKind { return cellKinds[k] }

var cellKinds = func() (out [NumKinds][]CellKind) {
	for k, t := range tables {
		for _, c := range t.Columns {
			out[k] = append(out[k], cellKindOf(c.SQLType))
		}
	}
	return out
}()

func cellKindOf(sqlType string) CellKind {
	switch {
	case sqlType == "UUID":
		return CellUUID
	case sqlType == "TIMESTAMPTZ":
		return CellTime
	case sqlType == "INTEGER":
		return CellInt
	case strings.HasPrefix(sqlType, "NUMERIC"):
		return CellNum
	case sqlType == "BOOLEAN":
		return CellBool
	case sqlType == "JSONB":
		return CellStrings
	}
	return CellText
}

// UUIDAt reads a CellUUID column: every record's only one is its user.
func UUIDAt(r Record, _ int) UUID { return r.UserID() }

// TimeAt reads a CellTime column.
func TimeAt(r Record, i int) (time.Time, bool) {
	switch r := r.(type) {
	case *HeartRate:
		return r.RecordedAt, true
	case *BloodPressure:
		return r.RecordedAt, true
	case *Sleep:
		return pick(i == 1, r.Start, r.End), true
	case *Workout:
		return pick(i == 2, r.Start, r.End), true
	case *Activity:
		return r.RecordedAt, true
	case *Nutrition:
		return r.RecordedAt, true
	case *Symptom:
		if i == 1 {
			return r.RecordedAt, true
		}
		return r.OnsetAt, !r.OnsetAt.IsZero()
	}
	return time.Time{}, false
}

// NumAt reads a CellNum or CellInt column.
func NumAt(r Record, i int) (float64, bool) {
	switch r := r.(type) {
	case *Nutrition:
		if j := uint(i - 2); j < NutrientCount {
			return r.Values[j], r.Present&(1<<j) != 0
		}
	case *Activity:
		if j := uint(i - 2); j < ActivityFieldCount {
			if r.Present&(1<<j) == 0 {
				return 0, false
			}
			if activityColumns[j].Scale == 0 {
				return float64(satInt32(r.Values[j])), true
			}
			return r.Values[j], true
		}
	case *HeartRate:
		switch i {
		case 2:
			return float64(r.HeartRate), true
		case 3:
			return intOf(r.RestingHeartRate)
		case 4:
			return r.HeartRateVariability.V, r.HeartRateVariability.Valid
		}
	case *BloodPressure:
		switch i {
		case 2:
			return float64(r.Systolic), true
		case 3:
			return float64(r.Diastolic), true
		case 4:
			return intOf(r.Pulse)
		}
	case *Sleep:
		if i >= 3 && i <= 7 {
			return intOf(*r.ints()[i-3])
		}
		if i == 8 {
			return r.Efficiency.V, r.Efficiency.Valid
		}
	case *Workout:
		return workoutNum(r, i)
	case *Symptom:
		if i == 4 {
			return intOf(r.DurationMinutes)
		}
	}
	return 0, false
}

func workoutNum(r *Workout, i int) (float64, bool) {
	switch i {
	case 4:
		return r.TotalEnergyKcal.V, r.TotalEnergyKcal.Valid
	case 5:
		return r.DistanceMeters.V, r.DistanceMeters.Valid
	case 6:
		return intOf(r.AvgHeartRate)
	case 7:
		return intOf(r.MaxHeartRate)
	}
	return 0, false
}

// BoolAt reads a CellBool column (activity's stand_hour_achieved).
func BoolAt(r Record, _ int) bool {
	a, ok := r.(*Activity)
	return ok && a.StandHourAchieved
}

// TextAt reads a CellText column.
func TextAt(r Record, i int) (string, bool) {
	switch r := r.(type) {
	case *HeartRate:
		return present(pick(i == 5, r.Context, r.Source))
	case *BloodPressure:
		return present(r.Source)
	case *Sleep:
		return present(r.Source)
	case *Workout:
		if i == 1 {
			return r.Type, true
		}
		return present(r.Source)
	case *Activity:
		if i == 18 {
			return orDefault(r.AggregationPeriod, defaultActivityPeriod), true
		}
		return present(r.Source)
	case *Nutrition:
		if i == 41 {
			return orDefault(r.AggregationPeriod, defaultNutritionPeriod), true
		}
		return present(r.Source)
	case *Symptom:
		return symptomText(r, i)
	}
	return "", false
}

func symptomText(r *Symptom, i int) (string, bool) {
	switch i {
	case 2:
		return r.Type, true
	case 3:
		return orDefault(r.Severity, defaultSeverity), true
	case 6:
		return present(r.Notes)
	}
	return orDefault(r.Source, defaultSymptomSource), true
}

// StringsAt reads a CellStrings column (a symptom's triggers or treatments).
func StringsAt(r Record, i int) ([]string, bool) {
	s, ok := r.(*Symptom)
	if !ok {
		return nil, false
	}
	ss := pick(i == 7, s.Triggers, s.Treatments)
	return ss, ss != nil
}

func pick[T any](first bool, a, b T) T {
	if first {
		return a
	}
	return b
}

// present is s, NULL when empty, as nullText makes it.
func present(s string) (string, bool) { return s, s != "" }

func intOf(o Opt[int32]) (float64, bool) { return float64(o.V), o.Valid }
