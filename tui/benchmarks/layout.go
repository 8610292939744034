package benchmarks

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"hmperf/tui/datatable"
	"hmperf/tui/format"
	"hmperf/tui/source"
	"hmperf/tui/verdict"
)

// wideAt is the width from which the chart and the verdicts sit side by side.
const wideAt = 100

// layout is the size of each part of the panel.
type layout struct {
	wide            bool
	chartW, chartH  int
	sideW, resultsH int
	historyH        int
}

// layout splits the panel. The chart gets one line per bar: the bar chart
// cannot draw a bar narrower than one cell.
func (m *Model) layout() layout {
	historyH := min(max(len(m.data.Runs)+1, 2), max(m.h/4, 2))
	mainH := max(m.h-3-historyH, 4)
	chartH := max(len(m.shownResults()), 1)
	verdictH := len(m.data.Comparisons) + 1
	if len(m.data.Claims) > 0 {
		verdictH += len(m.data.Claims) + 1
	}
	if m.w >= wideAt {
		half := m.w / 2
		return layout{
			wide: true, chartW: half - 1, chartH: max(min(mainH, 2*chartH), chartH),
			sideW: m.w - half, resultsH: max(mainH-verdictH-1, 2), historyH: historyH,
		}
	}
	return layout{
		chartW: m.w, chartH: chartH,
		sideW: m.w, resultsH: max(mainH-chartH-verdictH-1, 2), historyH: historyH,
	}
}

// mainView is the chart, the verdicts and the results table.
func (m *Model) mainView(l layout) string {
	side := m.verdictsView(l.sideW) + "\n" + m.results.View()
	if l.wide {
		chart := lipgloss.NewStyle().Width(l.chartW + 1).Render(m.chartView)
		return lipgloss.JoinHorizontal(lipgloss.Top, chart, side)
	}
	return m.chartView + "\n" + side
}

func (m *Model) verdictsView(width int) string {
	lines := []string{m.st.Title.Render("Claimed against measured (optimized/original, 95% CI)")}
	for _, c := range m.data.Comparisons {
		lines = append(lines, m.verdictLine(c, width))
	}
	if len(m.data.Claims) > 0 {
		lines = append(lines, m.st.Title.Render("The report's other claims (bench --claim, 95% CI)"))
	}
	for _, v := range m.data.Claims {
		lines = append(lines, m.claimLine(v, width))
	}
	return strings.Join(lines, "\n")
}

// claimLine is one verdict of a claim run in at most width cells: what is
// judged, the claimed and measured figures, the 95% interval, the number
// of repetitions and the verdict. Where it does not fit, the measured
// figure goes first, then the claimed one, then the wording, keeping the
// subject, interval, repetitions and verdict.
func (m *Model) claimLine(v source.Verdict, width int) string {
	f := func(x float64) string { return unitValue(x, v.Unit) }
	what := format.Truncate(v.Claim, 48)
	want, got := "want "+f(v.Claimed), "got "+f(v.Measured)
	ci := "[" + verdict.Interval(v.CILow, v.CIHigh, f) + "]"
	n, outcome := fmt.Sprintf("n=%d", v.Reps), verdict.Outcome(m.st, v.Outcome)
	var line string
	for _, parts := range [][]string{
		{what, want, got, ci, n, outcome},
		{what, want, ci, n, outcome},
		{v.Short, ci, n, outcome},
	} {
		if line = strings.Join(parts, " "); lipgloss.Width(line) <= width {
			return line
		}
	}
	return ansi.Truncate(line, width, "…")
}

// unitValue prints a claim's figure in its unit, compactly.
func unitValue(x float64, unit string) string {
	switch unit {
	case "%":
		return format.SignedPct(x)
	case "s":
		return strconv.FormatFloat(x, 'g', 3, 64) + "s"
	case source.RowsPerSec:
		return format.Rate(x) + "/s"
	}
	return format.Float(x, 1) + unit
}

// verdictLine is one table's improvement claim in at most width cells: the
// paired ratio, the claimed and measured improvement, its 95% interval,
// the number of repetitions and the verdict as a word and a symbol. Where
// the line does not fit, the measured improvement goes first (the ratio
// says the same), then the ratio, then the claim (the Overview lists it);
// the verdict, the interval and the repetitions stay, and anything still
// too wide is cut with a visible "…".
func (m *Model) verdictLine(c source.Comparison, width int) string {
	pair := fmt.Sprintf("%-10s", format.Truncate(c.Pair, 10))
	ratio := "x" + format.Float(c.RatioMedian, 2)
	want, got := "want "+claimedPct(c.ClaimedPct), "got "+format.SignedPct(c.MeasuredPct)
	ci := "[" + verdict.Interval(c.CILow, c.CIHigh, format.SignedPct) + "]"
	n, outcome := fmt.Sprintf("n=%d", c.Reps), verdict.Outcome(m.st, c.Verdict)
	var line string
	for _, parts := range [][]string{
		{pair, ratio, want, got, ci, n, outcome},
		{pair, ratio, want, ci, n, outcome},
		{pair, want, ci, n, outcome},
		{pair, ci, n, outcome},
	} {
		if line = strings.Join(parts, " "); lipgloss.Width(line) <= width {
			return line
		}
	}
	return ansi.Truncate(line, width, "…")
}

// claimedPct is a claimed improvement as the report states it: whole
// percentages without a decimal ("+65%").
func claimedPct(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%+.0f%%", v)
	}
	return format.SignedPct(v)
}

func resultColumns() []datatable.Column {
	return []datatable.Column{
		{Title: "Table", Width: 9, Flex: true},
		{Title: "Variant", Width: 13},
		{Title: "Median/s", Width: 9},
		{Title: "Min/s", Width: 9, Optional: true},
		{Title: "Max/s", Width: 9, Optional: true},
		{Title: "Overhead", Width: 8},
		{Title: "95% CI", Width: 15, Optional: true},
	}
}

func resultRows(rs []source.VariantResult) [][]string {
	out := make([][]string, len(rs))
	for i, r := range rs {
		over, ci := format.SignedPct(r.OverheadPct), verdict.Interval(r.OverheadLow, r.OverheadHigh, format.SignedPct)
		if r.Variant == source.Unconstrained {
			over, ci = "floor", ""
		}
		out[i] = []string{r.Table, string(r.Variant), format.Rate(r.MedianRPS),
			format.Rate(r.MinRPS), format.Rate(r.MaxRPS), over, ci}
	}
	return out
}

func historyColumns() []datatable.Column {
	return []datatable.Column{
		{Title: "Run", Width: 5},
		{Title: "When", Width: 11},
		{Title: "Table", Width: 9},
		{Title: "Rows", Width: 9},
		{Title: "Reps", Width: 4},
		{Title: "Status", Width: 11},
		{Title: "Server", Width: 12, Flex: true},
	}
}

func historyRows(runs []source.BenchRun) [][]string {
	out := make([][]string, len(runs))
	for i, r := range runs {
		out[i] = []string{strconv.FormatInt(r.ID, 10), format.Stamp(r.At), r.Table,
			format.Int(int64(r.Rows)), strconv.Itoa(r.Reps), r.Status, r.ServerVersion}
	}
	return out
}
