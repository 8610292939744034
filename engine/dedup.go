package engine

import (
	"time"
)

// DedupStats counts duplicates per kind. Counting per kind, not per
// family, is what lets LegacyStats give each table only its own duplicates.
type DedupStats struct {
	ByKind  [NumKinds]uint64
	Elapsed time.Duration
}

// Total returns the number of duplicates over all kinds.
func (s DedupStats) Total() uint64 {
	var t uint64
	for _, n := range s.ByKind {
		t += n
	}
	return t
}

// Add accumulates o into s.
func (s *DedupStats) Add(o DedupStats) {
	for k, n := range o.ByKind {
		s.ByKind[k] += n
	}
	s.Elapsed += o.Elapsed
}

// FamilyStats is the per-family view, the equivalent of the legacy
// OptimizedDeduplicationStats, its per-family duplicate counters.
type FamilyStats struct {
	TotalDuplicates     uint64
	DeduplicationTimeMs uint64
	MetricDuplicates    [NumFamilies]uint64
	MemoryUsageBytes    uint64 // 0 when not measured
}

// ByName returns the per-family counts keyed by family name, for reports.
func (f FamilyStats) ByName() map[string]uint64 {
	out := make(map[string]uint64, NumFamilies)
	for fam, n := range f.MetricDuplicates {
		out[MetricTypeFamily(fam).String()] = n
	}
	return out
}

// Duplicates returns the count for family f.
func (f FamilyStats) Duplicates(fam MetricTypeFamily) uint64 { return f.MetricDuplicates[fam] }

// Families groups s by family.
func (s DedupStats) Families() FamilyStats {
	f := FamilyStats{TotalDuplicates: s.Total(), DeduplicationTimeMs: uint64(s.Elapsed.Milliseconds())}
	for k, n := range s.ByKind {
		f.MetricDuplicates[Kind(k).Family()] += n
	}
	return f
}

// LegacyStats has the 13 fields of the legacy DeduplicationStats, the service's
// per-table duplicate counters.
// Unlike the legacy to_legacy_format, each counter holds only its own
// table's duplicates (heart rate and blood pressure are not both given the
// cardiovascular total). The four kinds without a table here are always 0.
type LegacyStats struct {
	HeartRateDuplicates          uint64 `json:"heart_rate_duplicates"`
	BloodPressureDuplicates      uint64 `json:"blood_pressure_duplicates"`
	SleepDuplicates              uint64 `json:"sleep_duplicates"`
	ActivityDuplicates           uint64 `json:"activity_duplicates"`
	WorkoutDuplicates            uint64 `json:"workout_duplicates"`
	NutritionDuplicates          uint64 `json:"nutrition_duplicates"`
	SymptomDuplicates            uint64 `json:"symptom_duplicates"`
	ReproductiveHealthDuplicates uint64 `json:"reproductive_health_duplicates"`
	EnvironmentalDuplicates      uint64 `json:"environmental_duplicates"`
	MentalHealthDuplicates       uint64 `json:"mental_health_duplicates"`
	MobilityDuplicates           uint64 `json:"mobility_duplicates"`
	TotalDuplicates              uint64 `json:"total_duplicates"`
	DeduplicationTimeMs          uint64 `json:"deduplication_time_ms"`
}

// Legacy returns the 13-field view.
func (s DedupStats) Legacy() LegacyStats {
	return LegacyStats{
		HeartRateDuplicates:     s.ByKind[KindHeartRate],
		BloodPressureDuplicates: s.ByKind[KindBloodPressure],
		SleepDuplicates:         s.ByKind[KindSleep],
		ActivityDuplicates:      s.ByKind[KindActivity],
		WorkoutDuplicates:       s.ByKind[KindWorkout],
		NutritionDuplicates:     s.ByKind[KindNutrition],
		SymptomDuplicates:       s.ByKind[KindSymptom],
		TotalDuplicates:         s.Total(),
		DeduplicationTimeMs:     uint64(s.Elapsed.Milliseconds()),
	}
}

// BatchDeduper drops exact key duplicates within one batch: the first
// occurrence wins, later ones are dropped, and order is kept.
//
// Activity follows the same rule. The legacy code merged activity samples
// of one calendar day (max of each field) because its table was keyed on a
// DATE; activity_metrics_v2 is keyed on the exact recorded_at, so hourly
// samples are distinct rows, and an exact repeat of (user, recorded_at) is
// a duplicate whose first occurrence wins.
//
// The zero value is ready to use; it keeps its map between batches to
// avoid reallocating. Not safe for concurrent use.
type BatchDeduper struct {
	seen map[Key]struct{}
}

// Dedup filters batch in place and returns the kept prefix; it adds the
// dropped records to stats (which may be nil).
func (d *BatchDeduper) Dedup(batch []Record, stats *DedupStats) []Record {
	start := time.Now()
	if d.seen == nil {
		d.seen = make(map[Key]struct{}, len(batch))
	}
	clear(d.seen)
	kept := batch[:0]
	var dup [NumKinds]uint64
	for _, r := range batch {
		k := r.DedupKey()
		if _, ok := d.seen[k]; ok {
			dup[k.Kind]++
			continue
		}
		d.seen[k] = struct{}{}
		kept = append(kept, r)
	}
	clear(batch[len(kept):]) // drop references for the GC
	if stats != nil {
		stats.Add(DedupStats{ByKind: dup, Elapsed: time.Since(start)})
	}
	return kept
}
