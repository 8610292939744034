package engine

import (
	"runtime"
	"testing"
	"time"
)

func hr(sec int, bpm int32) *HeartRate {
	return &HeartRate{User: testUser, RecordedAt: testAt.Add(time.Duration(sec) * time.Second), HeartRate: bpm}
}

func TestBatchDedupFirstWins(t *testing.T) {
	act := func(sec int, steps float64) *Activity {
		a := &Activity{User: testUser, RecordedAt: testAt.Add(time.Duration(sec) * time.Second)}
		a.Set(ActStepCount, steps)
		return a
	}
	sym := func(typ string) *Symptom { return &Symptom{User: testUser, RecordedAt: testAt, Type: typ} }
	tests := []struct {
		name  string
		batch []Record
		kept  []int // indexes of batch kept
		dups  [NumKinds]uint64
	}{
		{"distinct", []Record{hr(0, 60), hr(1, 61)}, []int{0, 1}, [NumKinds]uint64{}},
		{"first wins", []Record{hr(0, 60), hr(1, 61), hr(0, 99)}, []int{0, 1}, [NumKinds]uint64{KindHeartRate: 1}},
		{"kinds do not collide", []Record{hr(0, 60), &BloodPressure{User: testUser, RecordedAt: testAt}}, []int{0, 1}, [NumKinds]uint64{}},
		// activity is keyed on the exact instant, so two samples of one hour are both kept.
		{"activity exact instant", []Record{act(0, 10), act(3600, 20), act(0, 30)}, []int{0, 1}, [NumKinds]uint64{KindActivity: 1}},
		{"symptom type in key", []Record{sym("fever"), sym("cough"), sym("fever")}, []int{0, 1}, [NumKinds]uint64{KindSymptom: 1}},
		{"sleep both ends in key", []Record{
			&Sleep{User: testUser, Start: testAt, End: testAt.Add(time.Hour)},
			&Sleep{User: testUser, Start: testAt, End: testAt.Add(2 * time.Hour)},
			&Sleep{User: testUser, Start: testAt, End: testAt.Add(time.Hour)},
		}, []int{0, 1}, [NumKinds]uint64{KindSleep: 1}},
	}
	var d BatchDeduper
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orig := append([]Record(nil), tt.batch...)
			var st DedupStats
			kept := d.Dedup(tt.batch, &st)
			if len(kept) != len(tt.kept) {
				t.Fatalf("kept %d, want %d", len(kept), len(tt.kept))
			}
			for i, j := range tt.kept {
				if kept[i] != orig[j] {
					t.Errorf("kept[%d] is not batch[%d]", i, j)
				}
			}
			if st.ByKind != tt.dups {
				t.Errorf("dups %v, want %v", st.ByKind, tt.dups)
			}
		})
	}
}

func TestTrackerAcrossBatches(t *testing.T) {
	tr := NewTracker(1000)
	b1 := tr.Filter([]Record{hr(0, 60), hr(1, 61), hr(0, 62)})
	b2 := tr.Filter([]Record{hr(1, 70), hr(2, 71)})
	if len(b1) != 2 || len(b2) != 1 || b2[0].(*HeartRate).HeartRate != 71 {
		t.Fatalf("kept %d then %d", len(b1), len(b2))
	}
	if got := tr.Stats().ByKind[KindHeartRate]; got != 2 || tr.Len() != 3 {
		t.Errorf("dups %d len %d", got, tr.Len())
	}
}

// TestTrackerBound: the tracker never holds more than maxKeys, forgets the
// oldest generation first, and still finds every key it holds after the
// eviction sweeps.
func TestTrackerBound(t *testing.T) {
	const maxKeys = 1000
	tr := NewTracker(maxKeys)
	key := func(i int) Key { return hr(i, 60).DedupKey() }
	for i := range 10 * maxKeys {
		if tr.Seen(key(i)) {
			t.Fatalf("fresh key %d seen", i)
		}
		if tr.Len() > maxKeys {
			t.Fatalf("len %d > %d", tr.Len(), maxKeys)
		}
	}
	held := 0
	for i := 10*maxKeys - 1; i >= 0; i-- {
		if tr.Seen(key(i)) {
			held++
		} else if i >= 10*maxKeys-maxKeys/2 {
			t.Fatalf("recent key %d forgotten", i)
		}
	}
	if held < maxKeys*3/4 || tr.Evicted() == 0 {
		t.Errorf("held %d evicted %d", held, tr.Evicted())
	}
}

func TestStatsViews(t *testing.T) {
	st := DedupStats{Elapsed: 1500 * time.Millisecond}
	st.ByKind[KindHeartRate] = 3
	st.ByKind[KindBloodPressure] = 2
	st.ByKind[KindActivity] = 5
	st.ByKind[KindWorkout] = 1
	st.ByKind[KindSymptom] = 4
	f := st.Families()
	tests := []struct {
		name      string
		got, want uint64
	}{
		{"cardiovascular", f.Duplicates(FamilyCardiovascular), 5},
		{"activity family", f.Duplicates(FamilyActivity), 6},
		{"symptoms family", f.Duplicates(FamilySymptoms), 4},
		{"family total", f.TotalDuplicates, 15},
		{"legacy heart rate only its own", st.Legacy().HeartRateDuplicates, 3},
		{"legacy blood pressure only its own", st.Legacy().BloodPressureDuplicates, 2},
		{"legacy activity only its own", st.Legacy().ActivityDuplicates, 5},
		{"legacy workout only its own", st.Legacy().WorkoutDuplicates, 1},
		{"legacy mobility", st.Legacy().MobilityDuplicates, 0},
		{"legacy total", st.Legacy().TotalDuplicates, 15},
		{"legacy ms", st.Legacy().DeduplicationTimeMs, 1500},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %d, want %d", tt.name, tt.got, tt.want)
		}
	}
	l := st.Legacy()
	sum := l.HeartRateDuplicates + l.BloodPressureDuplicates + l.SleepDuplicates + l.ActivityDuplicates +
		l.WorkoutDuplicates + l.NutritionDuplicates + l.SymptomDuplicates + l.ReproductiveHealthDuplicates +
		l.EnvironmentalDuplicates + l.MentalHealthDuplicates + l.MobilityDuplicates
	if sum != l.TotalDuplicates {
		t.Errorf("legacy counters sum to %d, total %d: double counted", sum, l.TotalDuplicates)
	}
}

func TestKeyWideTimes(t *testing.T) {
	far := time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)
	k1 := hr(0, 60)
	k1.RecordedAt = far
	k2 := hr(0, 60)
	k2.RecordedAt = far.Add(time.Second)
	if k1.DedupKey() == k2.DedupKey() || !k1.DedupKey().Wide {
		t.Error("far-future instants must key apart and be marked wide")
	}
}

// BenchmarkDedup1M tracks one million distinct keys in a tracker sized for
// them and reports ns/key and heap bytes per key.
func BenchmarkDedup1M(b *testing.B) {
	const n = 1_000_000
	keys := make([]Key, n)
	for i := range keys {
		u := testUser
		u[0] = byte(i % 10)
		keys[i] = makeKey(KindHeartRate, u, testAt.Add(time.Duration(i)*time.Second), time.Time{}, 0)
	}
	dup := make([]bool, n)
	b.ReportAllocs()
	var perKey float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		tr := NewTracker(n)
		tr.SeenMany(keys, dup)
		runtime.ReadMemStats(&after)
		perKey = float64(after.HeapAlloc-before.HeapAlloc) / n
		runtime.KeepAlive(tr)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/key")
	b.ReportMetric(perKey, "B/key")
}
