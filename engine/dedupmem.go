package engine

import (
	"fmt"
	"runtime"
	"strconv"
	"time"
)

// DedupLayout is one way of remembering the dedup keys a run has seen.
// MeasureDedupMemory measures each one's heap per key, so the report's
// memory claim (its "legacy" against its "optimized" layout) is set beside
// figures rather than arithmetic.
type DedupLayout string

// The layouts measured.
const (
	// LayoutTracker is hmperf's Tracker: 128-bit fingerprints in one
	// open-addressing table sized up front.
	LayoutTracker DedupLayout = "tracker"
	// LayoutTypedSet is the legacy service's intra-batch dedup rebuilt in
	// Go: one hash set per kind of typed (user, recorded_at in ms) tuples,
	// as its HashSet<(Uuid, i64)> held them.
	LayoutTypedSet DedupLayout = "legacy-typed-set"
	// LayoutStringSet is the report's "optimized" tracker rebuilt in Go:
	// one hash set of strings per family, each key formatted as
	// "<user>_<timestamp>_<kind>" the way its is_duplicate turned keys into
	// Strings (its tests use keys like "user1_2023-01-01_hr").
	LayoutStringSet DedupLayout = "report-string-set"
)

// DedupLayouts lists the layouts in the order they are measured and shown.
var DedupLayouts = []DedupLayout{LayoutTracker, LayoutTypedSet, LayoutStringSet}

// DedupSampleKeys returns n distinct heart-rate keys: n/200 users (at
// least 10) with one reading a second each, a plausible shape for one
// large import. The same n gives the same keys.
func DedupSampleKeys(n int) []Key {
	users := max(10, n/200)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	keys := make([]Key, n)
	for i := range keys {
		var u UUID
		v := uint64(i%users) + 1
		for b := range 8 {
			u[b] = byte(v >> (8 * b))
		}
		u[6], u[8] = 0x40, 0x80
		keys[i] = makeKey(KindHeartRate, u, base.Add(time.Duration(i/users)*time.Second), time.Time{}, 0)
	}
	return keys
}

// MeasureDedupMemory builds layout holding every key of keys and returns
// the live heap it holds, in bytes per key: the heap in use after a full
// collection, minus the heap in use after a full collection before the
// layout was built, so temporary garbage of the build does not count. The
// keys themselves (the caller's slice) are not counted; the strings the
// string layout makes from them are, since that layout keeps them.
// Allocations of other goroutines meanwhile would count too: measure with
// nothing else running in the process.
func MeasureDedupMemory(layout DedupLayout, keys []Key) (float64, error) {
	if len(keys) == 0 {
		return 0, fmt.Errorf("dedup memory: no keys to measure")
	}
	build, err := layoutBuilder(layout)
	if err != nil {
		return 0, err
	}
	var before, after runtime.MemStats
	settle()
	runtime.ReadMemStats(&before)
	held := build(keys)
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(held)
	// The keys are the caller's: freed by the second collection, they
	// would count against the layout.
	runtime.KeepAlive(keys)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(len(keys)), nil
}

func layoutBuilder(layout DedupLayout) (func([]Key) any, error) {
	switch layout {
	case LayoutTracker:
		return buildTracker, nil
	case LayoutTypedSet:
		return buildTypedSet, nil
	case LayoutStringSet:
		return buildStringSet, nil
	}
	return nil, fmt.Errorf("dedup memory: unknown layout %q", layout)
}

func buildTracker(keys []Key) any {
	t := NewTracker(len(keys))
	dup := make([]bool, min(len(keys), chunk))
	for i := 0; i < len(keys); i += chunk {
		part := keys[i:min(i+chunk, len(keys))]
		t.SeenMany(part, dup)
	}
	return t
}

// legacyKey is the legacy service's tuple key: user and milliseconds.
type legacyKey struct {
	user UUID
	ms   int64
}

// buildTypedSet grows its sets as the legacy code did (HashSet::new, no
// capacity given).
func buildTypedSet(keys []Key) any {
	var sets [NumKinds]map[legacyKey]struct{}
	for _, k := range keys {
		if sets[k.Kind] == nil {
			sets[k.Kind] = map[legacyKey]struct{}{}
		}
		sets[k.Kind][legacyKey{k.User, k.T1 / int64(time.Millisecond)}] = struct{}{}
	}
	return &sets
}

func buildStringSet(keys []Key) any {
	var sets [NumFamilies]map[string]struct{}
	var buf []byte
	for _, k := range keys {
		f := k.Kind.Family()
		if sets[f] == nil {
			sets[f] = map[string]struct{}{}
		}
		buf = append(buf[:0], k.User.String()...)
		buf = append(buf, '_')
		buf = time.Unix(0, k.T1).UTC().AppendFormat(buf, time.RFC3339Nano)
		buf = append(buf, '_')
		buf = append(buf, k.Kind.String()...)
		sets[f][string(buf)] = struct{}{}
	}
	return &sets
}

// settle collects garbage until the live heap stops shrinking (at most a
// few cycles): one collection can leave objects a second frees (values a
// sync.Pool moved to its victim cache, say), which would then be freed
// during a measurement and count against it.
func settle() {
	var prev uint64
	for i := 0; i < 4; i++ {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		if i > 0 && ms.HeapAlloc >= prev {
			return
		}
		prev = ms.HeapAlloc
	}
}

// DedupKeyCounts are the sizes the dedup memory benchmark and claim
// measure at.
var DedupKeyCounts = []int{10_000, 100_000, 1_000_000}

// FormatKeyCount names a key count the way the benchmarks do: 10k, 100k, 1M.
func FormatKeyCount(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return strconv.Itoa(n/1_000_000) + "M"
	case n >= 1_000 && n%1_000 == 0:
		return strconv.Itoa(n/1_000) + "k"
	}
	return strconv.Itoa(n)
}

// MeasureCacheMemory validates every record of recs through a new cache of
// len(recs) entries and returns the live heap the filled cache holds, in
// bytes, measured as MeasureDedupMemory measures (the records themselves
// are the caller's and not counted).
func MeasureCacheMemory(rs *Rules, recs []Record) (float64, error) {
	var before, after runtime.MemStats
	settle()
	runtime.ReadMemStats(&before)
	c, err := NewCache(len(recs), time.Hour, time.Now)
	if err != nil {
		return 0, err
	}
	var dst []Violation
	for _, r := range recs {
		dst = c.Validate(rs, r, dst[:0])
	}
	dst = nil
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(c)
	// The records are the caller's (and may be part of a larger slice):
	// freed by the second collection, they would count against the cache.
	runtime.KeepAlive(recs)
	return float64(int64(after.HeapAlloc) - int64(before.HeapAlloc)), nil
}
