package ingest

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

// TestUnsupportedStats: one row per type tag, in order, and counts past
// the stats columns' integer range split over several rows that add up.
func TestUnsupportedStats(t *testing.T) {
	tests := []struct {
		name   string
		counts map[string]int
		want   []string // table=received per row
	}{
		{"none", nil, nil},
		{"two tags", map[string]int{"B": 2, "A": 1}, []string{"unsupported:A=1", "unsupported:B=2"}},
		{"past int4", map[string]int{"A": math.MaxInt32 + 5}, []string{fmt.Sprintf("unsupported:A=%d", math.MaxInt32), "unsupported:A=5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, s := range unsupportedStats(tt.counts) {
				if s.Unsupported != s.Received {
					t.Errorf("%+v: not all unsupported", s)
				}
				got = append(got, fmt.Sprintf("%s=%d", s.Table, s.Received))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("rows %q, want %q", got, tt.want)
			}
		})
	}
}
