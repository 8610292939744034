// Package benchmarks is the benchmark panel: throughput of the original,
// optimized and unconstrained tables as bars, the claimed-against-measured
// verdicts, the run history, and the progress of a run in flight.
package benchmarks

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/NimbleMarkets/ntcharts/barchart"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"hmperf/tui/datatable"
	"hmperf/tui/format"
	"hmperf/tui/source"
	"hmperf/tui/theme"
	"hmperf/tui/verdict"
)

// All is the selector choice that benchmarks every table.
const All = "all"

// choices are what b can run, in selector order.
func choices() []string { return []string{All, "nutrition", "symptoms", "activity"} }

// Model is the benchmarks panel.
type Model struct {
	keys     keyMap
	st       theme.Styles
	data     source.BenchHistory
	sel      int
	running  bool
	progress source.BenchProgress
	chart    barchart.Model
	// chartView is the chart rendered once per redraw: the canvas styles
	// every cell, too slow to repeat on every frame.
	chartView string
	results   datatable.Model
	history   datatable.Model
	w, h      int
}

// New returns an empty benchmarks panel.
func New(st theme.Styles) Model {
	m := Model{
		st:      st,
		results: datatable.New(resultColumns(), st.Table),
		history: datatable.New(historyColumns(), st.Table),
	}
	m.keys = newKeyMap()
	m.SetSize(80, 20)
	return m
}

// Selected returns the table b runs: a table name or All.
func (m *Model) Selected() string { return choices()[m.sel] }

// Select moves the selector by delta, wrapping around.
func (m *Model) Select(delta int) {
	n := len(choices())
	m.sel = ((m.sel+delta)%n + n) % n
	m.SetSize(m.w, m.h) // the number of bars, and so the layout, changed
}

// SetRunning says whether a run is in flight; a new run starts at zero.
func (m *Model) SetRunning(running bool) {
	m.running = running
	if running {
		m.progress = source.BenchProgress{}
	}
}

// SetProgress shows how far the run in flight is.
func (m *Model) SetProgress(p source.BenchProgress) { m.progress = p }

// SetData shows new benchmark history.
func (m *Model) SetData(d source.BenchHistory) {
	// Between runs every poll brings the history already shown: laying it
	// out and drawing the chart again would be for nothing.
	if reflect.DeepEqual(d, m.data) && m.chartView != "" {
		return
	}
	m.data = d
	m.results.SetRows(resultRows(d.Results))
	m.history.SetRows(historyRows(d.Runs))
	m.SetSize(m.w, m.h) // the layout depends on how many rows there are
}

// SetSize fits the panel into w×h cells.
func (m *Model) SetSize(w, h int) {
	m.w, m.h = max(w, 1), max(h, 1)
	l := m.layout()
	m.results.SetSize(l.sideW, l.resultsH)
	m.history.SetSize(m.w, l.historyH)
	m.redraw()
}

// Update moves the results table's cursor.
func (m *Model) Update(msg tea.Msg) tea.Cmd { return m.results.Update(msg) }

// Table returns the per-variant results, the table that / and e act on.
func (m *Model) Table() *datatable.Model { return &m.results }

// redraw rebuilds the bar chart; View only prints it.
func (m *Model) redraw() {
	l := m.layout()
	m.chart = barchart.New(l.chartW, l.chartH,
		barchart.WithHorizontalBars(),
		barchart.WithBarGap(0),
		barchart.WithStyles(m.st.Muted, m.st.Muted),
		barchart.WithDataSet(m.bars()),
	)
	// Resize recomputes the label margin, which New worked out before the
	// labels were pushed.
	m.chart.Resize(l.chartW, l.chartH)
	m.chart.Draw()
	m.chartView = m.chart.View()
}

// bars are one bar per variant of each shown table, labelled with its
// median so the chart reads without the table.
func (m *Model) bars() []barchart.BarData {
	var out []barchart.BarData
	for _, r := range m.shownResults() {
		label := fmt.Sprintf("%-9s %-13s %9s/s ", r.Table, r.Variant, format.Rate(r.MedianRPS))
		out = append(out, barchart.BarData{
			Label:  label,
			Values: []barchart.BarValue{{Name: string(r.Variant), Value: r.MedianRPS, Style: m.variantStyle(r.Variant)}},
		})
	}
	return out
}

// shownResults are the results of the selected table, or all of them.
func (m *Model) shownResults() []source.VariantResult {
	var out []source.VariantResult
	for _, r := range m.data.Results {
		if m.Selected() == All || r.Table == m.Selected() {
			out = append(out, r)
		}
	}
	return out
}

// variantStyle colours the bars: the floor muted, the report's candidate in
// the accent colour.
func (m *Model) variantStyle(v source.Variant) lipgloss.Style {
	switch v {
	case source.Optimized:
		return m.st.Accent
	case source.Unconstrained:
		return m.st.Muted
	}
	return m.st.Warn
}

// View renders the panel.
func (m *Model) View() string {
	l := m.layout()
	parts := []string{m.selectorView(), m.progressView()}
	if len(m.data.Runs) == 0 {
		parts = append(parts, m.st.Muted.Render("no benchmark run stored yet: press b to run one"))
		return strings.Join(parts, "\n")
	}
	parts = append(parts, m.mainView(l), m.st.Title.Render("Run history"), m.history.View())
	return strings.Join(parts, "\n")
}

// progressView is the live progress of a run, or how to start one.
func (m *Model) progressView() string {
	if !m.running {
		return m.st.Muted.Render("idle: b runs the selected benchmark, ←/→ choose the table")
	}
	p := m.progress
	frac := 0.0
	if p.Steps > 0 {
		frac = float64(p.Step) / float64(p.Steps)
	}
	reps := fmt.Sprint(p.Reps)
	if p.Reps == 0 {
		// Automatic repetitions: the total is not known, so no bar.
		label := fmt.Sprintf("running %s %s rep %d (auto)  ratio x%s [%s]", p.Table, p.Variant, p.Rep,
			format.Float(p.Ratio, 2), verdict.Interval(p.RatioLow, p.RatioHigh, func(v float64) string { return format.Float(v, 2) }))
		return m.st.Accent.Render(label) + m.st.Muted.Render("  esc cancels")
	}
	label := fmt.Sprintf("running %s %s rep %d/%s  ", p.Table, p.Variant, p.Rep, reps)
	hint := "  esc cancels"
	return m.st.Accent.Render(label) + m.st.Bar(max(m.w-len(label)-len(hint), 10), frac) + m.st.Muted.Render(hint)
}

func (m *Model) selectorView() string {
	var b strings.Builder
	b.WriteString(m.st.Title.Render("Benchmark") + "  table: ")
	for i, c := range choices() {
		if i == m.sel {
			b.WriteString(m.st.ActiveTab.Render("[" + c + "]"))
		} else {
			b.WriteString(m.st.Tab.Render(" " + c + " "))
		}
	}
	return b.String()
}
