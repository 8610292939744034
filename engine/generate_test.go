package engine

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func newGen(t testing.TB, cfg GenConfig) *Generator {
	t.Helper()
	if cfg.End.IsZero() {
		cfg.End = testNow.Truncate(24 * time.Hour)
	}
	g, err := NewGenerator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestGeneratorReproducible(t *testing.T) {
	cfg := DefaultGenConfig(42)
	a, b, c := newGen(t, cfg), newGen(t, cfg), newGen(t, DefaultGenConfig(43))
	same := true
	for i := range 2000 {
		x, y, z := a.Next(), b.Next(), c.Next()
		if !reflect.DeepEqual(x, y) {
			t.Fatalf("sample %d differs with the same seed", i)
		}
		same = same && reflect.DeepEqual(x, z)
	}
	if same {
		t.Error("different seeds gave the same samples")
	}
}

// TestGeneratorRates draws 200k samples and checks that the dup and
// invalid rates are within 6 sigma (a false failure is below 1e-8), that
// every sample flagged fresh-and-valid validates and is not a key
// duplicate, and that every flagged invalid sample fails validation.
func TestGeneratorRates(t *testing.T) {
	const n = 200_000
	cfg := DefaultGenConfig(7)
	g := newGen(t, cfg)
	rs := DefaultRules().WithClock(func() time.Time { return g.cfg.End })
	seen := map[Key]bool{}
	dups, invalid := 0, 0
	for range n {
		s := g.Next()
		vs := rs.Validate(s.Record, nil)
		if s.Invalid != "" {
			invalid++
			if len(vs) == 0 {
				t.Fatalf("flagged invalid (%s) but valid: %+v", s.Invalid, s.Record)
			}
			field := strings.SplitN(s.Invalid, ":", 2)[0]
			if !hasField(vs, field) {
				t.Fatalf("flagged %s, violations %v", s.Invalid, vs)
			}
		} else if len(vs) != 0 {
			t.Fatalf("%s sample invalid: %v\n%+v", s.Record.Kind(), vs, s.Record)
		}
		k := s.Record.DedupKey()
		if s.Dup {
			dups++
			if !seen[k] {
				t.Fatal("dup of a key never generated")
			}
		} else if seen[k] {
			t.Fatalf("fresh sample repeats a key: %+v", s.Record)
		}
		seen[k] = true
	}
	checkRate(t, "dup", dups, n, cfg.DupRate)
	checkRate(t, "invalid", invalid, n, cfg.InvalidRate)
}

func hasField(vs []Violation, field string) bool {
	for _, v := range vs {
		if v.Field == field {
			return true
		}
	}
	return false
}

func checkRate(t *testing.T, name string, got, n int, p float64) {
	t.Helper()
	mean := float64(n) * p
	sigma := math.Sqrt(float64(n) * p * (1 - p))
	// Copies of invalid samples make invalid counts slightly correlated;
	// 6 sigma leaves room for that.
	if math.Abs(float64(got)-mean) > 6*sigma {
		t.Errorf("%s: %d of %d, want %.0f ± %.0f", name, got, n, mean, 6*sigma)
	}
}

func TestGeneratorTypesAndTimes(t *testing.T) {
	cfg := GenConfig{Seed: 1, Types: []Kind{KindSymptom, KindNutrition}, Users: 3}
	g := newGen(t, cfg)
	users := map[UUID]bool{}
	lo := g.cfg.End.Add(-31 * 24 * time.Hour)
	for range 5000 {
		r := g.Next().Record
		if k := r.Kind(); k != KindSymptom && k != KindNutrition {
			t.Fatalf("kind %s not requested", k)
		}
		users[r.UserID()] = true
		at := r.(interface{ when(int) time.Time }).when(0)
		if at.Before(lo) || at.After(g.cfg.End) {
			t.Fatalf("timestamp %v outside the last 30 days before %v", at, g.cfg.End)
		}
	}
	if len(users) != 3 {
		t.Errorf("%d users, want 3", len(users))
	}
	if _, err := NewGenerator(GenConfig{DupRate: 1}); err == nil {
		t.Error("dup rate 1 accepted")
	}
}

func BenchmarkGenerate(b *testing.B) {
	g := newGen(b, DefaultGenConfig(1))
	buf := make([]Sample, 1000)
	b.ReportAllocs()
	for b.Loop() {
		g.Fill(buf)
	}
	b.ReportMetric(float64(b.N*len(buf))/b.Elapsed().Seconds(), "records/s")
}
