// Package overview is the first panel: the server, the schema, the alerts
// count, the ingest rate and the latest benchmark verdicts on one screen.
package overview

import (
	"fmt"
	"slices"
	"strings"

	"github.com/NimbleMarkets/ntcharts/sparkline"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"hmperf/tui/datatable"
	"hmperf/tui/format"
	"hmperf/tui/pane"
	"hmperf/tui/severity"
	"hmperf/tui/source"
	"hmperf/tui/theme"
	"hmperf/tui/verdict"
)

// wideAt is the width from which the summary and the sparkline sit side by
// side; narrower terminals stack them.
const wideAt = 100

// verdictFixed is the width of a verdict line without its claim text
// (the longest verdict, "[-] not comparable", included).
const verdictFixed = 69

// sparkHeight is the sparkline's height in lines.
const sparkHeight = 4

// Model is the overview panel.
type Model struct {
	pane.NoKeys
	st    theme.Styles
	data  source.Overview
	spark sparkline.Model
	// sparkView is the sparkline rendered once per redraw: the canvas
	// styles every cell, too slow to repeat on every frame.
	sparkView string
	w, h      int
}

// New returns an empty overview panel.
func New(st theme.Styles) Model {
	m := Model{st: st}
	m.SetSize(80, 20)
	return m
}

// SetData shows a new overview.
func (m *Model) SetData(d source.Overview) {
	// Most polls bring the same rates: rebuilding the chart was most of an
	// idle poll's CPU.
	same := slices.EqualFunc(d.IngestRate, m.data.IngestRate, func(a, b source.RatePoint) bool { return a.RowsPerSec == b.RowsPerSec })
	m.data = d
	if !same || m.sparkView == "" {
		m.redraw()
	}
}

// SetSize fits the panel into w×h cells.
func (m *Model) SetSize(w, h int) {
	m.w, m.h = max(w, 1), max(h, 1)
	m.redraw()
}

// sparkWidth is the sparkline's width: half the panel when wide.
func (m *Model) sparkWidth() int {
	if m.w >= wideAt {
		return max(m.w/2-2, 1)
	}
	return max(m.w-2, 1)
}

// redraw rebuilds the sparkline so that View only prints it.
func (m *Model) redraw() {
	m.spark = sparkline.New(m.sparkWidth(), sparkHeight, sparkline.WithStyle(m.st.Accent))
	for _, p := range m.data.IngestRate {
		m.spark.Push(p.RowsPerSec)
	}
	m.spark.Draw()
	m.sparkView = m.spark.View()
}

// Update does nothing: the overview has no cursor.
func (m *Model) Update(tea.Msg) tea.Cmd { return nil }

// Table returns nil: the overview has no table to filter or export.
func (m *Model) Table() *datatable.Model { return nil }

// View renders the panel.
func (m *Model) View() string {
	summary, rate := m.summaryView(), m.rateView()
	var top string
	if m.w >= wideAt {
		left := lipgloss.NewStyle().Width(m.w / 2).Render(summary)
		top = lipgloss.JoinHorizontal(lipgloss.Top, left, rate)
	} else {
		top = summary + "\n\n" + rate
	}
	return top + "\n\n" + m.verdictsView()
}

func (m *Model) summaryView() string {
	d, st := m.data, m.st
	schema := st.OK.Render("clean")
	if d.Dirty {
		schema = st.Crit.Render("DIRTY")
	}
	pending := st.OK.Render("none")
	if d.PendingMigrations > 0 {
		pending = st.Warn.Render(fmt.Sprintf("%d pending", d.PendingMigrations))
	}
	schemaLine := fmt.Sprintf("version %d, %s", d.SchemaVersion, schema)
	if d.Database != "" {
		schemaLine = d.Database
		if d.Dirty {
			schemaLine = st.Crit.Render(d.Database)
		}
	}
	rows := [][2]string{
		{"Server", d.Server},
		{"Version", d.ServerVersion},
		{"Schema", schemaLine},
		{"Migrations", pending},
	}
	if d.Next != "" && d.PendingMigrations+btoi(d.Dirty) > 0 {
		rows = append(rows, [2]string{"Next", st.Warn.Render(d.Next)})
	}
	rows = append(rows, [2]string{"Alerts", m.alertsLine()})
	var b strings.Builder
	b.WriteString(st.Title.Render("Database") + "\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "%s %s\n", st.Muted.Render(fmt.Sprintf("%-11s", r[0])), m.hanging(r[1]))
	}
	return strings.TrimRight(b.String(), "\n")
}

// hanging wraps a value to the summary's width, its continuation lines
// under the value rather than under the label column (12 cells).
func (m *Model) hanging(v string) string {
	if strings.Contains(v, "\n") {
		return v // already laid out (the alerts line)
	}
	w := m.w
	if m.w >= wideAt {
		w = m.w / 2
	}
	text := lipgloss.NewStyle().Width(max(w-12, 20)).Render(v)
	return strings.ReplaceAll(text, "\n", "\n"+strings.Repeat(" ", 12))
}

func (m *Model) alertsLine() string {
	d, st := m.data, m.st
	if d.AlertsUnknown != "" {
		// The label column takes 12 cells; the reason wraps beneath it.
		w := m.w
		if m.w >= wideAt {
			w = m.w / 2
		}
		text := lipgloss.NewStyle().Width(max(w-12, 20)).Render("UNKNOWN: " + d.AlertsUnknown)
		return st.Warn.Render(strings.ReplaceAll(text, "\n", "\n"+strings.Repeat(" ", 12)))
	}
	if d.CriticalAlerts == 0 && d.WarningAlerts == 0 {
		return st.OK.Render("OK, none firing")
	}
	return fmt.Sprintf("%s %d   %s %d",
		severity.Render(st, source.Critical), d.CriticalAlerts,
		severity.Render(st, source.Warning), d.WarningAlerts)
}

func (m *Model) rateView() string {
	pts := m.data.IngestRate
	title := m.st.Title.Render("Ingest rate")
	if len(pts) == 0 {
		return title + "\n" + m.st.Muted.Render("no ingest batches yet")
	}
	last, peak := pts[len(pts)-1], 0.0
	for _, p := range pts {
		peak = max(peak, p.RowsPerSec)
	}
	caption := fmt.Sprintf("latest %s rows/s, peak %s, %d samples to %s",
		format.Rate(last.RowsPerSec), format.Rate(peak), len(pts), format.Clock(last.At))
	return title + "\n" + m.sparkView + "\n" + m.st.Muted.Render(caption)
}

func (m *Model) verdictsView() string {
	title := m.st.Title.Render("Latest finished benchmark: claimed against measured (95% CI)")
	if len(m.data.Verdicts) == 0 {
		return title + "\n" + m.st.Muted.Render("no finished benchmark run yet (panel 5, b)")
	}
	title = m.st.Title.Render(fmt.Sprintf("Benchmark run %d: claimed against measured (95%% CI)", m.data.VerdictsRun))
	lines := []string{title, m.st.Muted.Render(fmt.Sprintf("%-9s %-*s %8s %8s %17s %2s  %s",
		"table", m.claimWidth(), "claim", "claimed", "measured", "95% CI", "n", "verdict"))}
	for _, v := range m.data.Verdicts {
		lines = append(lines, m.verdictLine(v))
	}
	return strings.Join(lines, "\n")
}

func (m *Model) verdictLine(v source.Verdict) string {
	cw := m.claimWidth()
	ci := verdict.Interval(v.CILow, v.CIHigh, func(x float64) string { return figure(x, v.Unit) })
	if v.Outcome == source.NotComparable {
		ci = "other unit"
	}
	return fmt.Sprintf("%-9s %-*s %8s %8s %17s %2d  %s",
		v.Table, cw, verdict.Label(v, cw), figure(v.Claimed, v.Unit), figure(v.Measured, v.Unit), ci, v.Reps,
		verdict.Outcome(m.st, v.Outcome))
}

// claimWidth is what a verdict line leaves for the claim: the fixed
// columns take verdictFixed cells. At 80 columns that is 11, room for the
// one-word labels ("improvement", "throughput", "overhead").
func (m *Model) claimWidth() int { return min(max(m.w-verdictFixed, 8), 40) }

// figure shows a claim's figure in its unit: throughput as a rate, the
// rest as signed percentages.
func figure(v float64, unit string) string {
	if unit == source.RowsPerSec {
		return format.Rate(v) + "/s"
	}
	return format.SignedPct(v)
}

// Data returns the overview last shown, for the header.
func (m *Model) Data() source.Overview { return m.data }

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
