package bench_test

import (
	"context"
	"strconv"
	"testing"

	"hmperf/queries/bench"
)

// TestIndexStrategyClaim runs the index-strategy claim on 1 MB partitions
// and checks every strategy was measured whole, every figure of the report
// got a verdict with an interval, the deferred strategy's read without its
// indexes was timed each repetition, and nothing of it is left or written
// outside its scratch schema.
func TestIndexStrategyClaim(t *testing.T) {
	pool := setup(t)
	ctx := context.Background()
	before := dataRows(t, pool)
	run, err := bench.RunClaim(ctx, pool, bench.ClaimIndexStrategy, bench.ClaimOptions{Reps: 6, Table: "nutrition", PartitionBytes: 1 << 20, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if run.Reps != 6 || len(run.Verdicts) != 7 || len(run.Figures) != 21 {
		t.Fatalf("%d reps, %d verdicts, %d figures", run.Reps, len(run.Verdicts), len(run.Figures))
	}
	if rows, _ := strconv.Atoi(run.Params["rows"]); rows < 1000 {
		t.Errorf("loaded %d rows into a 1 MB partition", rows)
	}
	for _, v := range run.Verdicts {
		if v.CILow == nil || v.Verdict.Verdict == "" || v.Wording == "" {
			t.Errorf("verdict %+v has no interval, outcome or wording", v)
		}
	}
	got := map[[2]string]bench.Figure{}
	for _, f := range run.Figures {
		got[[2]string{f.Subject, f.Name}] = f
	}
	for _, s := range bench.Strategies {
		for _, name := range []string{"create_seconds", "accepts_inserts_seconds", "load_rows_per_sec", "all_indexes_valid_seconds", "total_seconds", "read_ms_indexed"} {
			f := got[[2]string{s, name}]
			if f.Reps != 6 || f.Median <= 0 {
				t.Errorf("%s %s: %d reps, median %g", s, name, f.Reps, f.Median)
			}
		}
		f := got[[2]string{s, "total_seconds"}]
		if c := got[[2]string{s, "accepts_inserts_seconds"}]; f.Median < c.Median {
			t.Errorf("%s: loaded and indexed after %gs, before it accepted inserts (%gs)", s, f.Median, c.Median)
		}
	}
	if f := got[[2]string{bench.StrategyDeferred, "read_ms_index_missing"}]; f.Reps != 6 {
		t.Errorf("deferred read without indexes timed %d times, want 6", f.Reps)
	}
	if f := got[[2]string{bench.StrategyImmediate, "read_ms_index_missing"}]; f.Reps != 0 || f.Note == "" {
		t.Errorf("immediate read without indexes: %+v", f)
	}
	var left int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'hmperf\\_scratch\\_%'").Scan(&left); err != nil || left != 0 {
		t.Errorf("scratch schemas left: %d (%v)", left, err)
	}
	if after := dataRows(t, pool); after != before {
		t.Errorf("live tables hold %d rows, %d before", after, before)
	}
	stored, err := bench.LatestClaimVerdicts(ctx, pool)
	if err != nil || len(stored) != 7 || stored[0].Subject != bench.StrategyImmediate {
		t.Fatalf("stored: %+v (%v)", stored, err)
	}
}
