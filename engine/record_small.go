package engine

import (
	"encoding/binary"
	"time"
)

// HeartRate is a row of heart_rate_metrics. Empty strings are NULL.
type HeartRate struct {
	User                 UUID
	RecordedAt           time.Time
	HeartRate            int32
	RestingHeartRate     Opt[int32]
	HeartRateVariability Opt[float64]
	Context              string
	Source               string
}

// Kind returns KindHeartRate.
func (*HeartRate) Kind() Kind { return KindHeartRate }

// UserID returns the owner.
func (r *HeartRate) UserID() UUID { return r.User }

// Columns returns the heart_rate_metrics columns.
func (*HeartRate) Columns() []string { return columnNames[KindHeartRate] }

// AppendValues appends the row values in Columns order.
func (r *HeartRate) AppendValues(dst []any) []any {
	return append(dst, [16]byte(r.User), r.RecordedAt, r.HeartRate, optInt(r.RestingHeartRate),
		optFloat(r.HeartRateVariability), nullText(r.Context), nullText(r.Source))
}

// DedupKey returns (user_id, recorded_at).
func (r *HeartRate) DedupKey() Key {
	return makeKey(KindHeartRate, r.User, r.RecordedAt, time.Time{}, 0)
}

// Clone returns a copy.
func (r *HeartRate) Clone() Record { c := *r; return &c }

func (r *HeartRate) nums(buf *[8]float64) ([]float64, uint64) {
	buf[hrHeartRate] = float64(r.HeartRate)
	mask := uint64(1) << hrHeartRate
	numOf(r.RestingHeartRate, buf, hrResting, &mask)
	numOf(r.HeartRateVariability, buf, hrVariability, &mask)
	return buf[:hrVariability+1], mask
}

func (r *HeartRate) setNum(slot int, v float64) {
	switch numSlot(slot) {
	case hrHeartRate:
		r.HeartRate = satInt32(v)
	case hrResting:
		putInt(&r.RestingHeartRate, v)
	case hrVariability:
		r.HeartRateVariability = Some(v)
	}
}

func (r *HeartRate) text(slot int) string {
	if textSlot(slot) == hrContext {
		return r.Context
	}
	return r.Source
}

func (r *HeartRate) setText(slot int, s string) {
	if textSlot(slot) == hrContext {
		r.Context = s
	} else {
		r.Source = s
	}
}

func (r *HeartRate) when(int) time.Time         { return r.RecordedAt }
func (r *HeartRate) setWhen(_ int, t time.Time) { r.RecordedAt = t }

func (r *HeartRate) appendBits(b []byte) []byte {
	b = bitsTime(bitsHead(b, KindHeartRate, r.User), r.RecordedAt)
	b = binary.LittleEndian.AppendUint32(b, uint32(r.HeartRate))
	b = bitsOptFloat(bitsOptInt(b, r.RestingHeartRate), r.HeartRateVariability)
	return bitsString(bitsString(b, r.Context), r.Source)
}

// BloodPressure is a row of blood_pressure_metrics.
type BloodPressure struct {
	User       UUID
	RecordedAt time.Time
	Systolic   int32
	Diastolic  int32
	Pulse      Opt[int32]
	Source     string
}

// Kind returns KindBloodPressure.
func (*BloodPressure) Kind() Kind { return KindBloodPressure }

// UserID returns the owner.
func (r *BloodPressure) UserID() UUID { return r.User }

// Columns returns the blood_pressure_metrics columns.
func (*BloodPressure) Columns() []string { return columnNames[KindBloodPressure] }

// AppendValues appends the row values in Columns order.
func (r *BloodPressure) AppendValues(dst []any) []any {
	return append(dst, [16]byte(r.User), r.RecordedAt, r.Systolic, r.Diastolic, optInt(r.Pulse), nullText(r.Source))
}

// DedupKey returns (user_id, recorded_at).
func (r *BloodPressure) DedupKey() Key {
	return makeKey(KindBloodPressure, r.User, r.RecordedAt, time.Time{}, 0)
}

// Clone returns a copy.
func (r *BloodPressure) Clone() Record { c := *r; return &c }

func (r *BloodPressure) nums(buf *[8]float64) ([]float64, uint64) {
	buf[bpSystolic], buf[bpDiastolic] = float64(r.Systolic), float64(r.Diastolic)
	mask := uint64(1)<<bpSystolic | uint64(1)<<bpDiastolic
	numOf(r.Pulse, buf, bpPulse, &mask)
	return buf[:bpPulse+1], mask
}

func (r *BloodPressure) setNum(slot int, v float64) {
	switch numSlot(slot) {
	case bpSystolic:
		r.Systolic = satInt32(v)
	case bpDiastolic:
		r.Diastolic = satInt32(v)
	case bpPulse:
		putInt(&r.Pulse, v)
	}
}

func (r *BloodPressure) text(int) string            { return r.Source }
func (r *BloodPressure) setText(_ int, s string)    { r.Source = s }
func (r *BloodPressure) when(int) time.Time         { return r.RecordedAt }
func (r *BloodPressure) setWhen(_ int, t time.Time) { r.RecordedAt = t }
func (r *BloodPressure) appendBits(b []byte) []byte {
	b = bitsTime(bitsHead(b, KindBloodPressure, r.User), r.RecordedAt)
	b = binary.LittleEndian.AppendUint32(b, uint32(r.Systolic))
	b = binary.LittleEndian.AppendUint32(b, uint32(r.Diastolic))
	return bitsString(bitsOptInt(b, r.Pulse), r.Source)
}

// Sleep is a row of sleep_metrics.
type Sleep struct {
	User                                         UUID
	Start, End                                   time.Time
	DurationMinutes                              Opt[int32]
	DeepMinutes, REMMinutes, LightMinutes, Awake Opt[int32]
	Efficiency                                   Opt[float64]
	Source                                       string
}

// Kind returns KindSleep.
func (*Sleep) Kind() Kind { return KindSleep }

// UserID returns the owner.
func (r *Sleep) UserID() UUID { return r.User }

// Columns returns the sleep_metrics columns.
func (*Sleep) Columns() []string { return columnNames[KindSleep] }

// AppendValues appends the row values in Columns order.
func (r *Sleep) AppendValues(dst []any) []any {
	return append(dst, [16]byte(r.User), r.Start, r.End, optInt(r.DurationMinutes), optInt(r.DeepMinutes),
		optInt(r.REMMinutes), optInt(r.LightMinutes), optInt(r.Awake), optFloat(r.Efficiency), nullText(r.Source))
}

// DedupKey returns (user_id, sleep_start, sleep_end).
func (r *Sleep) DedupKey() Key { return makeKey(KindSleep, r.User, r.Start, r.End, 0) }

// Clone returns a copy.
func (r *Sleep) Clone() Record { c := *r; return &c }

// ints are the integer number slots, in slot order.
func (r *Sleep) ints() [slEfficiency]*Opt[int32] {
	return [slEfficiency]*Opt[int32]{&r.DurationMinutes, &r.DeepMinutes, &r.REMMinutes, &r.LightMinutes, &r.Awake}
}

func (r *Sleep) nums(buf *[8]float64) ([]float64, uint64) {
	var mask uint64
	numOf(r.DurationMinutes, buf, slDuration, &mask)
	numOf(r.DeepMinutes, buf, slDeep, &mask)
	numOf(r.REMMinutes, buf, slREM, &mask)
	numOf(r.LightMinutes, buf, slLight, &mask)
	numOf(r.Awake, buf, slAwake, &mask)
	numOf(r.Efficiency, buf, slEfficiency, &mask)
	return buf[:slEfficiency+1], mask
}

func (r *Sleep) setNum(slot int, v float64) {
	if numSlot(slot) == slEfficiency {
		r.Efficiency = Some(v)
		return
	}
	putInt(r.ints()[slot], v)
}

func (r *Sleep) text(int) string         { return r.Source }
func (r *Sleep) setText(_ int, s string) { r.Source = s }

func (r *Sleep) when(slot int) time.Time {
	if timeSlot(slot) == slStart {
		return r.Start
	}
	return r.End
}

func (r *Sleep) setWhen(slot int, t time.Time) {
	if timeSlot(slot) == slStart {
		r.Start = t
	} else {
		r.End = t
	}
}

func (r *Sleep) appendBits(b []byte) []byte {
	b = bitsTime(bitsTime(bitsHead(b, KindSleep, r.User), r.Start), r.End)
	for _, p := range r.ints() {
		b = bitsOptInt(b, *p)
	}
	return bitsString(bitsOptFloat(b, r.Efficiency), r.Source)
}

// Workout is a row of workouts.
type Workout struct {
	User            UUID
	Type            string
	Start, End      time.Time
	TotalEnergyKcal Opt[float64]
	DistanceMeters  Opt[float64]
	AvgHeartRate    Opt[int32]
	MaxHeartRate    Opt[int32]
	Source          string
}

// Kind returns KindWorkout.
func (*Workout) Kind() Kind { return KindWorkout }

// UserID returns the owner.
func (r *Workout) UserID() UUID { return r.User }

// Columns returns the workouts columns.
func (*Workout) Columns() []string { return columnNames[KindWorkout] }

// AppendValues appends the row values in Columns order.
func (r *Workout) AppendValues(dst []any) []any {
	return append(dst, [16]byte(r.User), r.Type, r.Start, r.End, optFloat(r.TotalEnergyKcal),
		optFloat(r.DistanceMeters), optInt(r.AvgHeartRate), optInt(r.MaxHeartRate), nullText(r.Source))
}

// DedupKey returns (user_id, started_at).
func (r *Workout) DedupKey() Key { return makeKey(KindWorkout, r.User, r.Start, time.Time{}, 0) }

// Clone returns a copy.
func (r *Workout) Clone() Record { c := *r; return &c }

func (r *Workout) nums(buf *[8]float64) ([]float64, uint64) {
	var mask uint64
	numOf(r.TotalEnergyKcal, buf, woEnergy, &mask)
	numOf(r.DistanceMeters, buf, woDistance, &mask)
	numOf(r.AvgHeartRate, buf, woAvgHeartRate, &mask)
	numOf(r.MaxHeartRate, buf, woMaxHeartRate, &mask)
	return buf[:woMaxHeartRate+1], mask
}

func (r *Workout) setNum(slot int, v float64) {
	switch numSlot(slot) {
	case woEnergy:
		r.TotalEnergyKcal = Some(v)
	case woDistance:
		r.DistanceMeters = Some(v)
	case woAvgHeartRate:
		putInt(&r.AvgHeartRate, v)
	case woMaxHeartRate:
		putInt(&r.MaxHeartRate, v)
	}
}

func (r *Workout) text(slot int) string {
	if textSlot(slot) == woType {
		return r.Type
	}
	return r.Source
}

func (r *Workout) setText(slot int, s string) {
	if textSlot(slot) == woType {
		r.Type = s
	} else {
		r.Source = s
	}
}

func (r *Workout) when(slot int) time.Time {
	if timeSlot(slot) == woStart {
		return r.Start
	}
	return r.End
}

func (r *Workout) setWhen(slot int, t time.Time) {
	if timeSlot(slot) == woStart {
		r.Start = t
	} else {
		r.End = t
	}
}

func (r *Workout) appendBits(b []byte) []byte {
	b = bitsString(bitsHead(b, KindWorkout, r.User), r.Type)
	b = bitsTime(bitsTime(b, r.Start), r.End)
	b = bitsOptFloat(bitsOptFloat(b, r.TotalEnergyKcal), r.DistanceMeters)
	b = bitsOptInt(bitsOptInt(b, r.AvgHeartRate), r.MaxHeartRate)
	return bitsString(b, r.Source)
}
