package bench_test

import (
	"context"
	"testing"

	"hmperf/queries/bench"
)

// TestEngineClaimsStoredApart runs the dedup-memory and validation-cache
// claims, reads their verdicts back as the dashboard does, and checks that
// a claim run is never taken for the latest insert run.
func TestEngineClaimsStoredApart(t *testing.T) {
	pool := setup(t)
	ctx := context.Background()
	tests := []struct {
		claim    string
		opt      bench.ClaimOptions
		verdicts int
		figures  int
	}{
		{bench.ClaimDedupMemory, bench.ClaimOptions{Reps: 6, Keys: 20_000}, 4, 3},
		{bench.ClaimValidationCache, bench.ClaimOptions{Reps: 6, ResendShare: 0.9, Uploads: 20, Seed: 1}, 3, 5},
	}
	for _, tt := range tests {
		run, err := bench.RunClaim(ctx, pool, tt.claim, tt.opt)
		if err != nil {
			t.Fatalf("%s: %v", tt.claim, err)
		}
		if run.Reps != 6 || len(run.Verdicts) != tt.verdicts || len(run.Figures) != tt.figures {
			t.Fatalf("%s: %d reps, %d verdicts, %d figures", tt.claim, run.Reps, len(run.Verdicts), len(run.Figures))
		}
		for _, v := range run.Verdicts {
			if v.CILow == nil || v.Verdict.Verdict == "" || v.Wording == "" {
				t.Errorf("%s: verdict %+v has no interval, outcome or wording", tt.claim, v)
			}
		}
	}
	stored, err := bench.LatestClaimVerdicts(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 7 || stored[0].Claim != bench.ClaimDedupMemory || stored[6].Claim != bench.ClaimValidationCache {
		t.Fatalf("stored claim verdicts: %+v", stored)
	}
	if stored[0].Subject != "report-string-set" || stored[0].Wording != bench.ClaimRunWording("bytes_per_key", "report-string-set") {
		t.Errorf("first stored verdict: subject %q, wording %q", stored[0].Subject, stored[0].Wording)
	}
	// The cache's hit rate on 90% re-sent uploads is the re-sent share of
	// all but the first upload: 19 × 900 of 20,000 records.
	for _, v := range stored {
		if v.Verdict.Claim == "hit_rate_pct" && (v.Measured < 85 || v.Measured > 86) {
			t.Errorf("hit rate %.2f%%, want 85.5%%", v.Measured)
		}
	}
	runs, err := bench.History(ctx, pool, 10)
	if err != nil || len(runs) != 2 || runs[0].Setup.Method != bench.MethodClaim || runs[0].Tables[0] != bench.ClaimValidationCache {
		t.Errorf("history: %+v (%v)", runs, err)
	}
	if key, err := latestDone(ctx, pool); err != nil || key != (bench.RunKey{}) {
		t.Errorf("the latest finished run after claim runs only: %+v, %v; want none", key, err)
	}
}
