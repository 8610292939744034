package dashsource

import (
	"context"
	"testing"
	"time"

	"hmperf/tui/source"
)

// TestRecentReuse: a kept answer is given while it is younger than the
// cache's own ttl or, when it was read for a poll wanting a fresh read,
// than the age the reader's context accepts; otherwise, and after forget,
// the read runs.
func TestRecentReuse(t *testing.T) {
	for _, tt := range []struct {
		name      string
		ttl       time.Duration
		first     time.Duration // the first reader's source.WithReuse; 0: none
		accept    time.Duration // the second reader's
		forget    bool
		wantReads int
	}{
		{"no ttl, fresh read wanted", 0, 0, 0, false, 2},
		{"no ttl, an hour-old answer accepted", 0, 0, time.Hour, false, 1},
		{"no ttl, a nanosecond-old answer accepted", 0, 0, time.Nanosecond, false, 2},
		{"ttl of an hour, fresh read wanted", time.Hour, 0, 0, false, 1},
		{"accepted, but forgotten", 0, 0, time.Hour, true, 2},
		{"accepted, but read for a poll that accepted an old one", 0, time.Hour, time.Hour, false, 2},
		{"ttl of an hour, read for a poll that accepted an old one", time.Hour, time.Hour, time.Hour, false, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := recent[int]{ttl: tt.ttl}
			reads := 0
			read := func() (int, error) { reads++; return reads, nil }
			first := context.Background()
			if tt.first > 0 {
				first = source.WithReuse(first, tt.first)
			}
			if v, _ := r.get(first, read); v != 1 {
				t.Fatalf("first get = %d, want 1", v)
			}
			if tt.forget {
				r.forget()
			}
			ctx := context.Background()
			if tt.accept > 0 {
				ctx = source.WithReuse(ctx, tt.accept)
			}
			time.Sleep(time.Millisecond)
			v, _ := r.get(ctx, read)
			if reads != tt.wantReads || v != tt.wantReads {
				t.Errorf("second get: %d reads, answer %d; want %d reads, answer %d", reads, v, tt.wantReads, tt.wantReads)
			}
		})
	}
}
