// Package verdict renders the benchmark verdicts the same way on every
// panel: a claim's 95% interval, the outcome as a symbol and a word, and a
// claim's label at the width a panel can spare. Panels share it instead of
// importing each other.
package verdict

import (
	"github.com/charmbracelet/lipgloss"

	"hmperf/tui/format"
	"hmperf/tui/source"
	"hmperf/tui/theme"
)

// Interval prints a 95% interval with f, or "no CI" when too few
// repetitions bound one.
func Interval(lo, hi *float64, f func(float64) string) string {
	if lo == nil || hi == nil {
		return "no CI"
	}
	return f(*lo) + ".." + f(*hi)
}

// Outcome renders a verdict as a symbol and a word, coloured by what it
// says (ok for holds, crit for does not hold, warn for inconclusive, muted
// for not comparable), so it reads without colour too.
func Outcome(st theme.Styles, o string) string {
	switch o {
	case source.Holds:
		return st.OK.Render("[ok] " + o)
	case source.DoesNotHold:
		return st.Crit.Render("[x] " + o)
	case source.Inconclusive:
		return st.Warn.Render("[?] " + o)
	}
	return st.Muted.Render("[-] " + o)
}

// Label is the claim's name in at most width cells: the full wording when
// it fits, else the one-word label, else the wording cut short.
func Label(v source.Verdict, width int) string {
	switch {
	case lipgloss.Width(v.Claim) <= width:
		return v.Claim
	case v.Short != "" && lipgloss.Width(v.Short) <= width:
		return v.Short
	}
	return format.Truncate(v.Claim, width)
}
