package engine

import (
	"encoding/binary"
	"math"
	"time"
)

// Opt is an optional value without a pointer: Valid is false for SQL NULL.
type Opt[T any] struct {
	V     T
	Valid bool
}

// Some returns a present Opt.
func Some[T any](v T) Opt[T] { return Opt[T]{V: v, Valid: true} }

// Record is implemented by the pointer types *HeartRate, *BloodPressure,
// *Sleep, *Workout, *Activity, *Nutrition and *Symptom. The unexported
// methods give the rules uniform, allocation-free access to the fields
// (numbers by slot, texts by slot, times by slot), so that one rule table per
// kind drives validation, boundary walks and invalid-value injection.
type Record interface {
	Kind() Kind
	// UserID returns the owner of the record.
	UserID() UUID
	// Columns returns the table's column names in COPY order. The slice is
	// shared: do not modify it.
	Columns() []string
	// AppendValues appends the column values in Columns order: nil for NULL,
	// [16]byte for UUIDs, time.Time, int32, float64, bool, string, and
	// []string for JSON arrays (pgx marshals it to jsonb).
	AppendValues(dst []any) []any
	// DedupKey returns the record's unique-key value.
	DedupKey() Key
	// Clone returns a deep copy.
	Clone() Record

	nums(buf *[8]float64) ([]float64, uint64)
	setNum(slot int, v float64)
	text(slot int) string
	setText(slot int, s string)
	when(slot int) time.Time
	setWhen(slot int, t time.Time)
	appendBits(dst []byte) []byte
}

// Family returns the family of r's kind.
func Family(r Record) MetricTypeFamily { return r.Kind().Family() }

func optInt(o Opt[int32]) any {
	if !o.Valid {
		return nil
	}
	return o.V
}

func optFloat(o Opt[float64]) any {
	if !o.Valid {
		return nil
	}
	return o.V
}

func nullText(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// putInt stores v, already range-checked or injected on purpose, in an
// Opt[int32]. Values beyond int32 saturate: they only come from invalid-value
// injection, and a saturated value is still out of every column's range.
func putInt(o *Opt[int32], v float64) { *o = Some(satInt32(v)) }

func satInt32(v float64) int32 {
	switch {
	case v != v:
		return 0
	case v >= math.MaxInt32:
		return math.MaxInt32
	case v <= math.MinInt32:
		return math.MinInt32
	}
	return int32(v)
}

func numOf[T int32 | float64](o Opt[T], buf *[8]float64, slot numSlot, mask *uint64) {
	if o.Valid {
		buf[slot] = float64(o.V)
		*mask |= 1 << slot
	}
}

// Bit encoding for cache keys: every field, exactly, with lengths so that
// two different records never encode to the same bytes.

func bitsTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	b = append(b, 1)
	b = binary.LittleEndian.AppendUint64(b, uint64(t.Unix()))
	return binary.LittleEndian.AppendUint32(b, uint32(t.Nanosecond()))
}

func bitsString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func bitsOptInt(b []byte, o Opt[int32]) []byte {
	if !o.Valid {
		return append(b, 0)
	}
	return binary.LittleEndian.AppendUint32(append(b, 1), uint32(o.V))
}

func bitsOptFloat(b []byte, o Opt[float64]) []byte {
	if !o.Valid {
		return append(b, 0)
	}
	return binary.LittleEndian.AppendUint64(append(b, 1), math.Float64bits(o.V))
}

func bitsStrings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, 0)
	}
	b = binary.AppendUvarint(append(b, 1), uint64(len(ss)))
	for _, s := range ss {
		b = bitsString(b, s)
	}
	return b
}

func bitsHead(b []byte, k Kind, u UUID) []byte {
	return append(append(b, byte(k)), u[:]...)
}
