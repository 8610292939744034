package engine

import (
	"fmt"
	"reflect"
	"testing"
	"time"
)

func TestResenderRepeatsTheShare(t *testing.T) {
	tests := []struct {
		share      float64
		size, want int
	}{
		{0, 100, 0},
		{0.25, 100, 25},
		{0.8, 1000, 800},
		{0.95, 20, 19},
	}
	for _, tt := range tests {
		cfg := GenConfig{Seed: 3, End: testNow}
		r, err := NewResender(cfg, tt.size, tt.share)
		if err != nil {
			t.Fatal(err)
		}
		first := r.Next()
		second := r.Next()
		if len(first) != tt.size || len(second) != tt.size {
			t.Fatalf("share %g: uploads of %d and %d, want %d", tt.share, len(first), len(second), tt.size)
		}
		for i := range tt.want {
			if !reflect.DeepEqual(second[i], first[tt.size-tt.want+i]) {
				t.Fatalf("share %g: record %d of the second upload is not the previous upload's record %d", tt.share, i, tt.size-tt.want+i)
			}
		}
		if tt.want < tt.size && reflect.DeepEqual(second[tt.want], first[tt.size-1]) {
			t.Errorf("share %g: a fresh record repeats", tt.share)
		}
	}
}

func TestResenderRejects(t *testing.T) {
	for _, c := range []struct {
		size  int
		share float64
	}{{0, 0.5}, {10, 1}, {10, -0.1}} {
		if _, err := NewResender(GenConfig{Seed: 1, End: testNow}, c.size, c.share); err == nil {
			t.Errorf("size %d share %g accepted", c.size, c.share)
		}
	}
}

// resentRecords is uploads re-sending share of each previous one, flattened.
func resentRecords(b *testing.B, share float64, uploads int) []Record {
	b.Helper()
	r, err := NewResender(GenConfig{Seed: 1, End: testNow}, DefaultUploadSize, share)
	if err != nil {
		b.Fatal(err)
	}
	var out []Record
	for range uploads {
		out = append(out, r.Next()...)
	}
	return out
}

// BenchmarkValidateResent validates re-sent uploads (every kind, 1,000
// records an upload, each repeating a share of the previous one) with and
// without the validation cache; one op is one record. Run with
//
//	go test ./engine -run '^$' -bench BenchmarkValidateResent -cpu 1 -benchtime 200000x
func BenchmarkValidateResent(b *testing.B) {
	rs := DefaultRules().WithClock(func() time.Time { return testNow })
	for _, share := range []float64{0.5, 0.8, 0.95} {
		recs := resentRecords(b, share, 200)
		b.Run(fmt.Sprintf("share=%g/uncached", share), func(b *testing.B) {
			var dst []Violation
			for i := 0; b.Loop(); i++ {
				dst = rs.Validate(recs[i%len(recs)], dst[:0])
			}
		})
		b.Run(fmt.Sprintf("share=%g/cached", share), func(b *testing.B) {
			c, _ := NewCache(10000, time.Hour, time.Now)
			var dst []Violation
			for i := 0; b.Loop(); i++ {
				dst = c.Validate(rs, recs[i%len(recs)], dst[:0])
			}
			b.ReportMetric(c.HitRate()*100, "hit%")
		})
	}
}
