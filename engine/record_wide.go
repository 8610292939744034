package engine

import (
	"encoding/binary"
	"math"
	"time"
)

// Activity is a row of activity_metrics_v2. The 15 measured columns live in
// Values, indexed by the Act* constants, with bit i of Present set when
// Values[i] is not NULL: a flat array keeps validation a tight loop and
// avoids 15 pointers per row. Integer columns hold whole numbers.
type Activity struct {
	User       UUID
	RecordedAt time.Time
	Values     [ActivityFieldCount]float64
	Present    uint16
	// StandHourAchieved is never NULL here: a missing value takes the
	// column default, false.
	StandHourAchieved bool
	// AggregationPeriod "" means the column default, "hourly".
	AggregationPeriod string
	Source            string
}

// Set stores v in field i (an Act* index) and marks it present.
func (r *Activity) Set(i int, v float64) { r.Values[i], r.Present = v, r.Present|1<<i }

// Get returns field i and whether it is present.
func (r *Activity) Get(i int) (float64, bool) { return r.Values[i], r.Present&(1<<i) != 0 }

// Kind returns KindActivity.
func (*Activity) Kind() Kind { return KindActivity }

// UserID returns the owner.
func (r *Activity) UserID() UUID { return r.User }

// Columns returns the activity_metrics_v2 columns.
func (*Activity) Columns() []string { return columnNames[KindActivity] }

// AppendValues appends the row values in Columns order. Integer columns are
// appended as int32.
func (r *Activity) AppendValues(dst []any) []any {
	dst = append(dst, [16]byte(r.User), r.RecordedAt)
	for i, c := range activityColumns {
		switch {
		case r.Present&(1<<i) == 0:
			dst = append(dst, nil)
		case c.Scale == 0:
			dst = append(dst, satInt32(r.Values[i]))
		default:
			dst = append(dst, r.Values[i])
		}
	}
	return append(dst, r.StandHourAchieved, orDefault(r.AggregationPeriod, defaultActivityPeriod), nullText(r.Source))
}

// DedupKey returns (user_id, recorded_at): the exact instant, like the
// table's primary key, not the calendar day the legacy code merged on.
func (r *Activity) DedupKey() Key { return makeKey(KindActivity, r.User, r.RecordedAt, time.Time{}, 0) }

// Clone returns a copy.
func (r *Activity) Clone() Record { c := *r; return &c }

func (r *Activity) nums(*[8]float64) ([]float64, uint64) { return r.Values[:], uint64(r.Present) }
func (r *Activity) setNum(slot int, v float64)           { r.Set(slot, v) }

func (r *Activity) text(slot int) string {
	if textSlot(slot) == widePeriod {
		return r.AggregationPeriod
	}
	return r.Source
}

func (r *Activity) setText(slot int, s string) {
	if textSlot(slot) == widePeriod {
		r.AggregationPeriod = s
	} else {
		r.Source = s
	}
}

func (r *Activity) when(int) time.Time         { return r.RecordedAt }
func (r *Activity) setWhen(_ int, t time.Time) { r.RecordedAt = t }

func (r *Activity) appendBits(b []byte) []byte {
	b = bitsTime(bitsHead(b, KindActivity, r.User), r.RecordedAt)
	b = bitsFloats(b, r.Values[:], uint64(r.Present))
	stand := byte(0)
	if r.StandHourAchieved {
		stand = 1
	}
	return bitsString(bitsString(append(b, stand), r.AggregationPeriod), r.Source)
}

// Nutrition is a row of nutrition_metrics. The 39 nutrient columns live in
// Values, in NutrientColumns order, with bit i of Present set when Values[i]
// is not NULL.
type Nutrition struct {
	User       UUID
	RecordedAt time.Time
	Values     [NutrientCount]float64
	Present    uint64
	// AggregationPeriod "" means the column default, "daily".
	AggregationPeriod string
	Source            string
}

// Set stores v in nutrient i and marks it present.
func (r *Nutrition) Set(i int, v float64) { r.Values[i], r.Present = v, r.Present|1<<i }

// Get returns nutrient i and whether it is present.
func (r *Nutrition) Get(i int) (float64, bool) { return r.Values[i], r.Present&(1<<i) != 0 }

// Kind returns KindNutrition.
func (*Nutrition) Kind() Kind { return KindNutrition }

// UserID returns the owner.
func (r *Nutrition) UserID() UUID { return r.User }

// Columns returns the nutrition_metrics columns.
func (*Nutrition) Columns() []string { return columnNames[KindNutrition] }

// AppendValues appends the row values in Columns order.
func (r *Nutrition) AppendValues(dst []any) []any {
	dst = append(dst, [16]byte(r.User), r.RecordedAt)
	for i := range NutrientCount {
		if r.Present&(1<<i) == 0 {
			dst = append(dst, nil)
		} else {
			dst = append(dst, r.Values[i])
		}
	}
	return append(dst, orDefault(r.AggregationPeriod, defaultNutritionPeriod), nullText(r.Source))
}

// DedupKey returns (user_id, recorded_at).
func (r *Nutrition) DedupKey() Key {
	return makeKey(KindNutrition, r.User, r.RecordedAt, time.Time{}, 0)
}

// Clone returns a copy.
func (r *Nutrition) Clone() Record { c := *r; return &c }

func (r *Nutrition) nums(*[8]float64) ([]float64, uint64) { return r.Values[:], r.Present }
func (r *Nutrition) setNum(slot int, v float64)           { r.Set(slot, v) }

func (r *Nutrition) text(slot int) string {
	if textSlot(slot) == widePeriod {
		return r.AggregationPeriod
	}
	return r.Source
}

func (r *Nutrition) setText(slot int, s string) {
	if textSlot(slot) == widePeriod {
		r.AggregationPeriod = s
	} else {
		r.Source = s
	}
}

func (r *Nutrition) when(int) time.Time         { return r.RecordedAt }
func (r *Nutrition) setWhen(_ int, t time.Time) { r.RecordedAt = t }

func (r *Nutrition) appendBits(b []byte) []byte {
	b = bitsTime(bitsHead(b, KindNutrition, r.User), r.RecordedAt)
	b = bitsFloats(b, r.Values[:], r.Present)
	return bitsString(bitsString(b, r.AggregationPeriod), r.Source)
}

// Symptom is a row of symptoms. Empty Severity and Source take the column
// defaults ("not_present", "manual"); a zero OnsetAt and nil
// Triggers/Treatments are NULL.
type Symptom struct {
	User            UUID
	RecordedAt      time.Time
	Type            string
	Severity        string
	DurationMinutes Opt[int32]
	OnsetAt         time.Time
	Notes           string
	Triggers        []string
	Treatments      []string
	Source          string
}

// Kind returns KindSymptom.
func (*Symptom) Kind() Kind { return KindSymptom }

// UserID returns the owner.
func (r *Symptom) UserID() UUID { return r.User }

// Columns returns the symptoms columns.
func (*Symptom) Columns() []string { return columnNames[KindSymptom] }

// AppendValues appends the row values in Columns order; triggers and
// treatments are []string (nil for NULL), which pgx encodes as a JSON array.
func (r *Symptom) AppendValues(dst []any) []any {
	return append(dst, [16]byte(r.User), r.RecordedAt, r.Type, orDefault(r.Severity, defaultSeverity),
		optInt(r.DurationMinutes), nullTime(r.OnsetAt), nullText(r.Notes), nullStrings(r.Triggers),
		nullStrings(r.Treatments), orDefault(r.Source, defaultSymptomSource))
}

// DedupKey returns (user_id, recorded_at, symptom_type).
func (r *Symptom) DedupKey() Key {
	return makeKey(KindSymptom, r.User, r.RecordedAt, time.Time{}, symptomPart(r.Type))
}

// Clone returns a deep copy.
func (r *Symptom) Clone() Record {
	c := *r
	c.Triggers = cloneStrings(r.Triggers)
	c.Treatments = cloneStrings(r.Treatments)
	return &c
}

func (r *Symptom) nums(buf *[8]float64) ([]float64, uint64) {
	var mask uint64
	numOf(r.DurationMinutes, buf, symDuration, &mask)
	return buf[:symDuration+1], mask
}

func (r *Symptom) setNum(_ int, v float64) { putInt(&r.DurationMinutes, v) }

// texts are the text slots, in slot order.
func (r *Symptom) texts() [symSource + 1]*string {
	return [symSource + 1]*string{&r.Type, &r.Severity, &r.Notes, &r.Source}
}
func (r *Symptom) text(slot int) string       { return *r.texts()[slot] }
func (r *Symptom) setText(slot int, s string) { *r.texts()[slot] = s }

func (r *Symptom) when(slot int) time.Time {
	if timeSlot(slot) == symRecordedAt {
		return r.RecordedAt
	}
	return r.OnsetAt
}

func (r *Symptom) setWhen(slot int, t time.Time) {
	if timeSlot(slot) == symRecordedAt {
		r.RecordedAt = t
	} else {
		r.OnsetAt = t
	}
}

func (r *Symptom) appendBits(b []byte) []byte {
	b = bitsTime(bitsHead(b, KindSymptom, r.User), r.RecordedAt)
	b = bitsString(bitsString(b, r.Type), r.Severity)
	b = bitsTime(bitsOptInt(b, r.DurationMinutes), r.OnsetAt)
	b = bitsStrings(bitsStrings(bitsString(b, r.Notes), r.Triggers), r.Treatments)
	return bitsString(b, r.Source)
}

func bitsFloats(b []byte, vals []float64, present uint64) []byte {
	b = binary.LittleEndian.AppendUint64(b, present)
	for i, v := range vals {
		if present&(1<<i) != 0 {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		}
	}
	return b
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func nullStrings(ss []string) any {
	if ss == nil {
		return nil
	}
	return ss
}

func cloneStrings(ss []string) []string {
	if ss == nil {
		return nil
	}
	return append([]string{}, ss...)
}

// symptomPart is the dedup key part of a symptom type: its index in the
// allowed list, or, for a type the DB would reject anyway, a hash above the
// list's range so two different unknown types do not collide by accident.
func symptomPart(t string) uint32 {
	if i, ok := symptomIndex[t]; ok {
		return uint32(i)
	}
	h := uint32(2166136261)
	for i := 0; i < len(t); i++ {
		h = (h ^ uint32(t[i])) * 16777619
	}
	return h | 1<<31
}
