package engine

import (
	"time"
)

// Key is a record's unique-key value: fixed size, comparable, no strings.
// T1 and T2 are Unix nanoseconds (T2 only for sleep_end); Part is the
// family-specific part (the symptom type index). Instants outside the range
// UnixNano can represent (years 1678–2262) are stored as Unix seconds with
// Wide set, so they cannot alias an in-range instant; two such instants in
// the same second share a key (both are far outside any realistic data).
type Key struct {
	User   UUID
	T1, T2 int64
	Part   uint32
	Kind   Kind
	Wide   bool
}

var (
	minNanoTime = time.Unix(0, -1<<63+1)
	maxNanoTime = time.Unix(0, 1<<63-1)
)

func makeKey(k Kind, u UUID, t1, t2 time.Time, part uint32) Key {
	key := Key{User: u, Kind: k, Part: part}
	if inNanoRange(t1) && inNanoRange(t2) {
		key.T1, key.T2 = timeNanos(t1), timeNanos(t2)
		return key
	}
	key.T1, key.T2, key.Wide = t1.Unix(), t2.Unix(), true
	return key
}

func inNanoRange(t time.Time) bool {
	return t.IsZero() || (t.After(minNanoTime) && t.Before(maxNanoTime))
}

func timeNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}
