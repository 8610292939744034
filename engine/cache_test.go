package engine

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestParseContext(t *testing.T) {
	for i, name := range []string{"api", "user-input", "bulk-import", "migration", "testing"} {
		c, err := ParseContext(name)
		if err != nil || c != Context(i) || c.String() != name {
			t.Errorf("ParseContext(%q) = %v, %v", name, c, err)
		}
	}
	if _, err := ParseContext("bulk"); err == nil || !strings.Contains(err.Error(), `"bulk"`) {
		t.Errorf("ParseContext(bulk) error %v", err)
	}
	if _, err := ParsePolicy("migration, nope"); err == nil {
		t.Error("ParsePolicy accepted nope")
	}
}

// TestValidatorContexts: skipped contexts count as unvalidated, never valid.
func TestValidatorContexts(t *testing.T) {
	bad := Baseline(KindHeartRate, testUser, testAt).(*HeartRate)
	bad.HeartRate = 400
	tests := []struct {
		policy string
		ctx    Context
		want   Outcome
	}{
		{"", ContextAPI, Invalid},
		{"", ContextUserInput, Invalid},
		{"", ContextBulkImport, Invalid},
		{"", ContextMigration, Invalid},
		{"", ContextTesting, Invalid},
		{"migration,bulk-import", ContextMigration, Unvalidated},
		{"migration,bulk-import", ContextBulkImport, Unvalidated},
		{"migration,bulk-import", ContextAPI, Invalid},
		{"testing", ContextTesting, Unvalidated},
	}
	for _, tt := range tests {
		p, err := ParsePolicy(tt.policy)
		if err != nil {
			t.Fatal(err)
		}
		v := NewValidator(testRules(t), p, nil)
		got, _ := v.Check(bad, tt.ctx, nil)
		if got != tt.want {
			t.Errorf("policy %q ctx %s: %s, want %s", tt.policy, tt.ctx, got, tt.want)
		}
		c := v.Counts(KindHeartRate)
		if c.Valid != 0 || (got == Unvalidated) != (c.Unvalidated == 1) {
			t.Errorf("counts %+v", c)
		}
	}
	if LegacyPolicy() != PolicySkipping(ContextMigration, ContextBulkImport) || DefaultPolicy().Skips(ContextMigration) {
		t.Error("policy defaults")
	}
}

func newTestCache(t testing.TB, size int, clk *fakeClock) *Cache {
	t.Helper()
	c, err := NewCache(size, time.Minute, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCacheHitMissTTL(t *testing.T) {
	clk := &fakeClock{t: testNow}
	c := newTestCache(t, 10, clk)
	rs := testRules(t)
	rec := Baseline(KindHeartRate, testUser, testAt)
	steps := []struct {
		advance  time.Duration
		wantHits uint64
	}{
		{0, 0},                // miss, stored
		{30 * time.Second, 1}, // hit
		{31 * time.Second, 1}, // expired at 61 s: miss, stored again
		{59 * time.Second, 2}, // hit
	}
	for i, s := range steps {
		clk.t = clk.t.Add(s.advance)
		c.Validate(rs, rec, nil)
		if st := c.Stats(); st.Hits != s.wantHits || st.Hits+st.Misses != uint64(i+1) {
			t.Fatalf("step %d: %+v", i, st)
		}
	}
	if got := c.HitRate(); got != 0.5 {
		t.Errorf("hit rate %v", got)
	}
}

// TestCacheWholeRecord: changing any field, even a vitamin the legacy key
// ignored, or the rules, misses; a cached invalid verdict keeps its
// violations.
func TestCacheWholeRecord(t *testing.T) {
	clk := &fakeClock{t: testNow}
	c := newTestCache(t, 100, clk)
	rs := testRules(t)
	good := Baseline(KindNutrition, testUser, testAt).(*Nutrition)
	c.Validate(rs, good, nil)
	bad := good.Clone().(*Nutrition)
	bad.Set(nutrientIndex("vitamin_b12_mcg"), 5000.01)
	if vs := c.Validate(rs, bad, nil); len(vs) != 1 || vs[0].Field != "vitamin_b12_mcg" {
		t.Fatalf("bad record through cache: %v", vs)
	}
	if vs := c.Validate(rs, bad, nil); len(vs) != 1 {
		t.Fatalf("cached bad verdict lost its violation: %v", vs)
	}
	cfg := DefaultConfig()
	cfg.CaloriesMax = 1000
	strict, _ := NewRules(cfg)
	c.Validate(strict, good, nil)
	if st := c.Stats(); st.Hits != 1 || st.Misses != 3 {
		t.Errorf("stats %+v, want 1 hit (the repeated bad record) and 3 misses", st)
	}
}

func TestCacheLRUEviction(t *testing.T) {
	clk := &fakeClock{t: testNow}
	c := newTestCache(t, 2, clk)
	rs := testRules(t)
	recs := make([]Record, 3)
	for i := range recs {
		recs[i] = Baseline(KindHeartRate, testUser, testAt.Add(time.Duration(i)*time.Second))
	}
	c.Validate(rs, recs[0], nil)
	c.Validate(rs, recs[1], nil)
	c.Validate(rs, recs[0], nil) // hit: 0 is now the most recent
	c.Validate(rs, recs[2], nil) // evicts 1
	c.Validate(rs, recs[0], nil) // hit
	c.Validate(rs, recs[1], nil) // miss
	if st := c.Stats(); st.Hits != 2 || st.Misses != 4 || st.Entries != 2 || st.Capacity != 2 {
		t.Errorf("stats %+v", st)
	}
	if _, err := NewCache(0, time.Minute, clk.now); err == nil {
		t.Error("size 0 accepted")
	}
	if _, err := NewCache(1, 0, clk.now); err == nil {
		t.Error("ttl 0 accepted")
	}
}

// benchSamples draws records of kind k at the generator's default duplicate
// rate, so cache hits happen as often as in a default run.
func benchSamples(b *testing.B, k Kind, n int) []Record {
	b.Helper()
	cfg := DefaultGenConfig(1)
	cfg.Types, cfg.End = []Kind{k}, testNow
	g, err := NewGenerator(cfg)
	if err != nil {
		b.Fatal(err)
	}
	out := make([]Record, n)
	for i := range out {
		out[i] = g.Next().Record
	}
	return out
}

// BenchmarkValidate compares validation with and without the cache for
// every kind at the default duplicate rate (5%). Run with
// go test ./engine -run '^$' -bench BenchmarkValidate -cpu 1 -benchtime 200000x
func BenchmarkValidate(b *testing.B) {
	rs := DefaultRules().WithClock(func() time.Time { return testNow })
	for _, k := range Kinds() {
		recs := benchSamples(b, k, 1<<16)
		b.Run(fmt.Sprintf("%s/uncached", k), func(b *testing.B) {
			b.ReportAllocs()
			var dst []Violation
			for i := 0; b.Loop(); i++ {
				dst = rs.Validate(recs[i&(len(recs)-1)], dst[:0])
			}
		})
		b.Run(fmt.Sprintf("%s/cached", k), func(b *testing.B) {
			b.ReportAllocs()
			c, _ := NewCache(10000, time.Hour, time.Now)
			var dst []Violation
			for i := 0; b.Loop(); i++ {
				dst = c.Validate(rs, recs[i&(len(recs)-1)], dst[:0])
			}
			b.ReportMetric(c.HitRate()*100, "hit%")
		})
	}
}

// BenchmarkValidateNutrition is the hot path target: ≥ 5,000,000 records/s
// on one core.
func BenchmarkValidateNutrition(b *testing.B) {
	rs := DefaultRules()
	recs := benchSamples(b, KindNutrition, 1<<12)
	b.ReportAllocs()
	var dst []Violation
	for i := 0; b.Loop(); i++ {
		dst = rs.Validate(recs[i&(len(recs)-1)], dst[:0])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkCacheAllHits is the cache's best case: 1,000 distinct nutrition
// records repeated, so every lookup after the first thousand hits.
func BenchmarkCacheAllHits(b *testing.B) {
	rs := DefaultRules()
	recs := benchSamples(b, KindNutrition, 1024)
	c, _ := NewCache(10000, time.Hour, time.Now)
	b.ReportAllocs()
	var dst []Violation
	for i := 0; b.Loop(); i++ {
		dst = c.Validate(rs, recs[i&1023], dst[:0])
	}
	b.ReportMetric(c.HitRate()*100, "hit%")
}
