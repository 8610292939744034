package dashsource

import (
	"context"
	"testing"
	"time"

	"hmperf/tui/source"
)

// TestRecentReuse: a kept answer is given while it is younger than the
// cache's own ttl or than the age the reader's context accepts; otherwise,
// and after forget, the read runs.
func TestRecentReuse(t *testing.T) {
	for _, tt := range []struct {
		name      string
		ttl       time.Duration
		accept    time.Duration // 0: no source.WithReuse
		forget    bool
		wantReads int
	}{
		{"no ttl, fresh read wanted", 0, 0, false, 2},
		{"no ttl, an hour-old answer accepted", 0, time.Hour, false, 1},
		{"no ttl, a nanosecond-old answer accepted", 0, time.Nanosecond, false, 2},
		{"ttl of an hour, fresh read wanted", time.Hour, 0, false, 1},
		{"accepted, but forgotten", 0, time.Hour, true, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := recent[int]{ttl: tt.ttl}
			reads := 0
			read := func() (int, error) { reads++; return reads, nil }
			if v, _ := r.get(context.Background(), read); v != 1 {
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
