package verdict

import (
	"strings"
	"testing"

	"hmperf/tui/source"
	"hmperf/tui/theme"
)

func TestLabel(t *testing.T) {
	v := source.Verdict{Claim: "optimized constraint overhead", Short: "overhead"}
	for _, tc := range []struct {
		v     source.Verdict
		width int
		want  string
	}{
		{v, 40, "optimized constraint overhead"},
		{v, 29, "optimized constraint overhead"},
		{v, 28, "overhead"},
		{v, 8, "overhead"},
		{v, 7, "optimi…"},
		{source.Verdict{Claim: "improvement over original"}, 11, "improvemen…"},
	} {
		if got := Label(tc.v, tc.width); got != tc.want {
			t.Errorf("Label(%q, %d) = %q, want %q", tc.v.Claim, tc.width, got, tc.want)
		}
	}
}

func TestIntervalAndOutcome(t *testing.T) {
	lo, hi := -1.5, 2.0
	f := func(x float64) string { return map[float64]string{-1.5: "a", 2: "b"}[x] }
	if got := Interval(&lo, &hi, f); got != "a..b" {
		t.Errorf("Interval = %q", got)
	}
	if got := Interval(nil, &hi, f); got != "no CI" {
		t.Errorf("Interval without a low end = %q", got)
	}
	st := theme.NewStyles(theme.Default())
	for o, want := range map[string]string{
		source.Holds: "[ok] holds", source.DoesNotHold: "[x] does not hold",
		source.Inconclusive: "[?] inconclusive", source.NotComparable: "[-] not comparable",
	} {
		// Colour codes, when the terminal has colour, surround the text.
		if got := Outcome(st, o); !strings.Contains(got, want) {
			t.Errorf("Outcome(%q) = %q, want %q", o, got, want)
		}
	}
}
