package engine

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

func TestDedupSampleKeysDistinct(t *testing.T) {
	for _, n := range []int{1, 10, 1000, 20_000} {
		keys := DedupSampleKeys(n)
		seen := map[Key]bool{}
		for _, k := range keys {
			if seen[k] {
				t.Fatalf("n=%d: key %+v twice", n, k)
			}
			seen[k] = true
		}
		if len(keys) != n {
			t.Errorf("n=%d: got %d keys", n, len(keys))
		}
	}
}

// TestMeasureDedupMemory checks each layout holds a plausible, positive
// amount per key: at least the bytes a key's payload needs in that layout
// and far less than a kilobyte.
func TestMeasureDedupMemory(t *testing.T) {
	keys := DedupSampleKeys(50_000)
	tests := []struct {
		layout   DedupLayout
		min, max float64
	}{
		{LayoutTracker, 16, 64},    // one 16-byte slot per key at most 3/4 full
		{LayoutTypedSet, 24, 128},  // a 24-byte tuple per key
		{LayoutStringSet, 70, 400}, // a 16-byte header and a string of over 50 bytes per key
	}
	for _, tt := range tests {
		got, err := MeasureDedupMemory(tt.layout, keys)
		if err != nil {
			t.Fatal(err)
		}
		if got < tt.min || got > tt.max {
			t.Errorf("%s: %.1f B/key, want %g to %g", tt.layout, got, tt.min, tt.max)
		}
	}
	if _, err := MeasureDedupMemory("btree", keys); err == nil {
		t.Error("unknown layout accepted")
	}
	if _, err := MeasureDedupMemory(LayoutTracker, nil); err == nil {
		t.Error("no keys accepted")
	}
}

func TestFormatKeyCount(t *testing.T) {
	for n, want := range map[int]string{10_000: "10k", 100_000: "100k", 1_000_000: "1M", 1234: "1234", 2_500_000: "2500k"} {
		if got := FormatKeyCount(n); got != want {
			t.Errorf("FormatKeyCount(%d) = %q, want %q", n, got, want)
		}
	}
}

// BenchmarkDedupMemory measures the heap each dedup layout holds per
// tracked key at 10k, 100k and 1M keys, from runtime.MemStats after a full
// collection before and after the layout is built: hmperf's Tracker, the
// legacy service's typed sets and the report's "optimized" string sets,
// both rebuilt in Go. Run with
//
//	go test ./engine -run '^$' -bench BenchmarkDedupMemory -benchtime 3x
func BenchmarkDedupMemory(b *testing.B) {
	for _, n := range DedupKeyCounts {
		keys := DedupSampleKeys(n)
		for _, l := range DedupLayouts {
			b.Run(fmt.Sprintf("%s/%s", FormatKeyCount(n), l), func(b *testing.B) {
				var perKey float64
				for b.Loop() {
					var err error
					if perKey, err = MeasureDedupMemory(l, keys); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(perKey, "B/key")
			})
		}
	}
}

// TestMeasureCacheMemory: a filled cache holds at least its keys (24 bytes
// each) and its LRU entries, and less than a kilobyte per entry.
func TestMeasureCacheMemory(t *testing.T) {
	r, err := NewResender(GenConfig{Seed: 2, End: testNow}, 5000, 0)
	if err != nil {
		t.Fatal(err)
	}
	recs := r.Next()
	got, err := MeasureCacheMemory(DefaultRules().WithClock(func() time.Time { return testNow }), recs)
	runtime.KeepAlive(r) // freed during the measurement, it would count against the cache
	if err != nil {
		t.Fatal(err)
	}
	if per := got / float64(len(recs)); per < 48 || per > 1024 {
		t.Errorf("%.0f bytes per cached verdict", per)
	}
}

// TestMeasureCacheMemoryIgnoresEarlierGarbage: a cache dropped just before
// the measurement does not count against the next one (once it did: one
// collection left it for the next, and the figure came out negative).
func TestMeasureCacheMemoryIgnoresEarlierGarbage(t *testing.T) {
	rs := DefaultRules().WithClock(func() time.Time { return testNow })
	r, err := NewResender(GenConfig{Seed: 4, End: testNow}, 1000, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	var recs []Record
	for range 30 {
		recs = append(recs, r.Next()...)
	}
	dropped, _ := NewCache(10000, time.Hour, time.Now)
	for _, rec := range recs {
		dropped.Validate(rs, rec, nil)
	}
	first, err := MeasureCacheMemory(rs, recs[:5000])
	if err != nil {
		t.Fatal(err)
	}
	again, _ := MeasureCacheMemory(rs, recs[:5000])
	if first <= 0 || first < again*0.9 || first > again*1.1 {
		t.Errorf("first measurement %.0f B, the same again %.0f B", first, again)
	}
}
