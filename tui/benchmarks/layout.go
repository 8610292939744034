package benchmarks

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/charmbracelet/lipgloss"

	"hmperf/tui/datatable"
	"hmperf/tui/format"
	"hmperf/tui/source"
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
	side := m.verdictsView() + "\n" + m.results.View()
	if l.wide {
		chart := lipgloss.NewStyle().Width(l.chartW + 1).Render(m.chartView)
		return lipgloss.JoinHorizontal(lipgloss.Top, chart, side)
	}
	return m.chartView + "\n" + side
}

func (m *Model) verdictsView() string {
	lines := []string{m.st.Title.Render("Claimed against measured (optimized/original)")}
	for _, c := range m.data.Comparisons {
		lines = append(lines, m.verdictLine(c))
	}
	return strings.Join(lines, "\n")
}

func (m *Model) verdictLine(c source.Comparison) string {
	verdict := m.st.Crit.Render("[x] " + c.Verdict)
	if c.Verdict == "holds" {
		verdict = m.st.OK.Render("[ok] " + c.Verdict)
	}
	return fmt.Sprintf("%-10s x%s (%s-%s) claimed %s measured %s %s",
		format.Truncate(c.Pair, 10), format.Float(c.RatioMedian, 2), format.Float(c.RatioMin, 2),
		format.Float(c.RatioMax, 2), format.SignedPct(c.ClaimedPct), format.SignedPct(c.MeasuredPct), verdict)
}

func resultColumns() []datatable.Column {
	return []datatable.Column{
		{Title: "Table", Width: 9, Flex: true},
		{Title: "Variant", Width: 13},
		{Title: "Median/s", Width: 9},
		{Title: "Min/s", Width: 9, Optional: true},
		{Title: "Max/s", Width: 9, Optional: true},
		{Title: "Overhead", Width: 8},
	}
}

func resultRows(rs []source.VariantResult) [][]string {
	out := make([][]string, len(rs))
	for i, r := range rs {
		out[i] = []string{r.Table, string(r.Variant), format.Rate(r.MedianRPS),
			format.Rate(r.MinRPS), format.Rate(r.MaxRPS), format.Pct(r.OverheadPct)}
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
		{Title: "Server", Width: 12, Flex: true},
	}
}

func historyRows(runs []source.BenchRun) [][]string {
	out := make([][]string, len(runs))
	for i, r := range runs {
		out[i] = []string{strconv.FormatInt(r.ID, 10), format.Stamp(r.At), r.Table,
			format.Int(int64(r.Rows)), strconv.Itoa(r.Reps), r.ServerVersion}
	}
	return out
}
