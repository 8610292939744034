package benchmarks

import (
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"hmperf/tui/source"
	"hmperf/tui/theme"
)

func TestSelectWraps(t *testing.T) {
	m := New(theme.NewStyles(theme.Default()))
	if m.Selected() != All {
		t.Fatalf("first choice %q, want %q", m.Selected(), All)
	}
	m.Select(-1)
	if m.Selected() != "activity" {
		t.Fatalf("left from all = %q, want activity", m.Selected())
	}
	m.Select(+2)
	if m.Selected() != "nutrition" {
		t.Fatalf("two right from activity = %q, want nutrition", m.Selected())
	}
}

// TestVerdictLineFits: a verdict line never overflows the side column, and
// what it drops first is what another field repeats, never the verdict,
// the interval or the count of repetitions.
func TestVerdictLineFits(t *testing.T) {
	m := New(theme.NewStyles(theme.Default()))
	lo, hi := -37.1, -17.8
	c := source.Comparison{Pair: "nutrition", RatioMedian: 0.76, ClaimedPct: 65, MeasuredPct: -23.8,
		CILow: &lo, CIHigh: &hi, Reps: 20, Verdict: source.DoesNotHold}
	for _, tc := range []struct {
		width int
		has   []string
		lacks []string
	}{
		{80, []string{"x0.76", "want +65%", "got -23.8%", "[-37.1%..-17.8%]", "n=20", "[x] does not hold"}, nil},
		{66, []string{"x0.76", "want +65%", "[-37.1%..-17.8%]", "n=20", "[x] does not hold"}, []string{"got"}},
		{60, []string{"want +65%", "[-37.1%..-17.8%]", "n=20", "[x] does not hold"}, []string{"got", "x0.76"}},
		{50, []string{"[-37.1%..-17.8%]", "n=20", "[x] does not hold"}, []string{"got", "x0.76", "want"}},
		{30, []string{"nutrition", "…"}, []string{"got", "x0.76", "want"}},
	} {
		line := ansi.Strip(m.verdictLine(c, tc.width))
		if w := lipgloss.Width(line); w > tc.width {
			t.Errorf("width %d: line is %d wide: %q", tc.width, w, line)
		}
		for _, s := range tc.has {
			if !strings.Contains(line, s) {
				t.Errorf("width %d: %q lacks %q", tc.width, line, s)
			}
		}
		for _, s := range tc.lacks {
			if strings.Contains(line, s) {
				t.Errorf("width %d: %q has %q", tc.width, line, s)
			}
		}
	}
}

// TestClaimLineFits: a claim run's verdict line never overflows, and keeps
// its interval, repetitions and verdict while it drops the figures.
func TestClaimLineFits(t *testing.T) {
	m := New(theme.NewStyles(theme.Default()))
	lo, hi := 0.027, 0.131
	v := source.Verdict{Table: "index-strategy: immediate", Claim: "partition creation time, 100MB partition: immediate 45.2 s",
		Short: "immediate", Claimed: 45.2, Measured: 0.0622, Unit: "s", CILow: &lo, CIHigh: &hi, Reps: 6, Outcome: source.DoesNotHold}
	for _, tc := range []struct {
		width int
		has   []string
		lacks []string
	}{
		{120, []string{"want 45.2s", "got 0.0622s", "[0.027s..0.131s]", "n=6", "[x] does not hold"}, nil},
		{100, []string{"want 45.2s", "[0.027s..0.131s]", "n=6", "[x] does not hold"}, []string{"got"}},
		{60, []string{"immediate [", "[0.027s..0.131s]", "n=6", "[x] does not hold"}, []string{"got", "want"}},
		{30, []string{"…"}, []string{"want"}},
	} {
		line := ansi.Strip(m.claimLine(v, tc.width))
		if w := lipgloss.Width(line); w > tc.width {
			t.Errorf("width %d: line is %d wide: %q", tc.width, w, line)
		}
		for _, s := range tc.has {
			if !strings.Contains(line, s) {
				t.Errorf("width %d: %q lacks %q", tc.width, line, s)
			}
		}
		for _, s := range tc.lacks {
			if strings.Contains(line, s) {
				t.Errorf("width %d: %q has %q", tc.width, line, s)
			}
		}
	}
}
