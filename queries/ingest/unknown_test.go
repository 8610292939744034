package ingest_test

import (
	"context"
	"fmt"
	"io"
	"testing"

	"hmperf/engine"
	"hmperf/queries/ingest"
)

// unknownPayload is a payload of n records of tags distinct tags none of
// which has a table (tags T0, T1, ...), streamed.
func unknownPayload(n, tags int) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		_, _ = io.WriteString(pw, `{"data":{"metrics":[`)
		for i := range n {
			sep := ","
			if i == 0 {
				sep = ""
			}
			_, _ = fmt.Fprintf(pw, `%s{"type":"T%d","value":%d}`, sep, i%tags, i)
		}
		_, _ = io.WriteString(pw, `]}}`)
		_ = pw.Close()
	}()
	return pr
}

// TestRunFileUnsupportedTags: records of types without a table are counted,
// not held, and past engine.MaxUnsupportedTypes distinct tags they share
// one "(other types)" row, so 100,000 distinct tags write 21 stats rows
// (and 21 monitor samples, which the alerts read), not 100,000 each.
func TestRunFileUnsupportedTags(t *testing.T) {
	tests := []struct {
		name      string
		n, tags   int
		wantRows  int
		wantOther int64
	}{
		{"a few tags", 300, 3, 3, 0},
		{"100,000 distinct tags", 100_000, 100_000, engine.MaxUnsupportedTypes + 1, 100_000 - engine.MaxUnsupportedTypes},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			pool := newPool(t)
			in := newIngester(t, pool, engine.DefaultPolicy(), engine.ContextBulkImport)
			if err := ingest.RunFile(ctx, in, unknownPayload(tt.n, tt.tags), 5000, nil); err != nil {
				t.Fatal(err)
			}
			tot := in.Totals()
			checkAccounting(t, pool, tot, int64(tt.n))
			if tot.Unsupported != int64(tt.n) {
				t.Errorf("unsupported %d, want %d", tot.Unsupported, tt.n)
			}
			if other := tot.ByType["unsupported:"+engine.OtherTypes]; tt.wantOther != 0 && (other == nil || other.Unsupported != tt.wantOther) {
				t.Errorf("other types: %+v, want %d", other, tt.wantOther)
			}
			var stats, samples int
			if err := pool.QueryRow(ctx, `SELECT count(*) FROM hmperf.ingest_batch_stats WHERE run_id = $1`, tot.RunID).Scan(&stats); err != nil {
				t.Fatal(err)
			}
			if err := pool.QueryRow(ctx, `SELECT count(*) FROM constraint_performance_monitor WHERE table_name LIKE 'unsupported:%'`).Scan(&samples); err != nil {
				t.Fatal(err)
			}
			if stats != tt.wantRows || samples != tt.wantRows {
				t.Errorf("%d stats rows and %d monitor samples, want %d each", stats, samples, tt.wantRows)
			}
		})
	}
}
