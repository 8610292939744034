package bench_test

import (
	"slices"
	"testing"

	"hmperf/queries/bench"
)

// TestClaimWording: every claim a comparison judges, by either method, is
// one of Claims and has its words, in the order Claims lists them, so a new
// claim cannot reach a screen as a blank.
func TestClaimWording(t *testing.T) {
	t.Parallel()
	for _, setup := range []bench.Setup{{Method: bench.MethodCopy}, {Method: bench.MethodFunction}} {
		_, comps := bench.Summarize(sample(8, 2, 1, 0.98, nil), setup)
		if len(comps) != 1 {
			t.Fatalf("%s: %d comparisons", setup.Method, len(comps))
		}
		var got []string
		for _, v := range comps[0].Verdicts {
			got = append(got, v.Claim)
		}
		if !slices.Equal(got, bench.Claims) {
			t.Errorf("%s: verdicts judge %v; Claims lists %v", setup.Method, got, bench.Claims)
		}
	}
	seen := map[string]bool{}
	for _, c := range bench.Claims {
		w, s := bench.ClaimWording(c), bench.ClaimShort(c)
		if w == "" || s == "" || seen[w] || seen[s] {
			t.Errorf("claim %q: wording %q, short %q (blank or shared)", c, w, s)
		}
		seen[w], seen[s] = true, true
	}
	if bench.ClaimWording("no_such_claim") != "" {
		t.Error("an unknown claim has words")
	}
}
