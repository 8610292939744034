// Package alerts is the firing-alerts panel: the rows of
// check_constraint_performance_alerts(), CRITICAL first.
package alerts

import (
	"fmt"
	"sort"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"hmperf/tui/datatable"
	"hmperf/tui/format"
	"hmperf/tui/pane"
	"hmperf/tui/severity"
	"hmperf/tui/source"
	"hmperf/tui/theme"
)

// Model is the alerts panel.
type Model struct {
	pane.NoKeys
	st     theme.Styles
	alerts []source.Alert
	table  datatable.Model
	w, h   int
}

// New returns an empty alerts panel.
func New(st theme.Styles) Model {
	m := Model{st: st, table: datatable.New(columns(), st.Table)}
	m.SetSize(80, 20)
	return m
}

func columns() []datatable.Column {
	return []datatable.Column{
		{Title: "Severity", Width: 11},
		{Title: "Alert", Width: 16, Flex: true},
		{Title: "Table", Width: 14},
		{Title: "Observed", Width: 8},
		{Title: "Limit", Width: 6, Optional: true},
		{Title: "Since", Width: 11},
	}
}

// SetData shows new alerts.
func (m *Model) SetData(alerts []source.Alert) {
	m.alerts = Sorted(alerts)
	rows := make([][]string, len(m.alerts))
	for i, a := range m.alerts {
		rows[i] = []string{
			severity.Label(a.Severity), a.Name, a.Table,
			format.Float(a.Observed, 1), format.Float(a.Threshold, 1), format.Stamp(a.FiringSince),
		}
	}
	m.table.SetRows(rows)
}

// Sorted returns the alerts ordered CRITICAL first, then oldest first, so
// that what has been burning longest is on top.
func Sorted(alerts []source.Alert) []source.Alert {
	out := append([]source.Alert(nil), alerts...)
	sort.SliceStable(out, func(i, j int) bool {
		ri, rj := rank(out[i].Severity), rank(out[j].Severity)
		if ri != rj {
			return ri < rj
		}
		return out[i].FiringSince.Before(out[j].FiringSince)
	})
	return out
}

func rank(s source.Severity) int {
	switch s {
	case source.Critical:
		return 0
	case source.Warning:
		return 1
	}
	return 2
}

// detailLines is the height kept under the table for the selected alert's
// message.
const detailLines = 3

// SetSize fits the panel into w×h cells.
func (m *Model) SetSize(w, h int) {
	m.w, m.h = max(w, 1), max(h, 1)
	m.table.SetSize(m.w, max(m.h-detailLines-2, 2))
}

// Update moves the table cursor.
func (m *Model) Update(msg tea.Msg) tea.Cmd { return m.table.Update(msg) }

// Table returns the panel's table for filtering and export.
func (m *Model) Table() *datatable.Model { return &m.table }

// View renders the panel.
func (m *Model) View() string {
	if len(m.alerts) == 0 {
		return m.summary() + "\n\n" + m.st.OK.Render("[ok] No alert is firing.")
	}
	return m.summary() + "\n" + m.colour(m.table.View()) + "\n" + m.detail()
}

func (m *Model) summary() string {
	crit, warn := 0, 0
	for _, a := range m.alerts {
		switch a.Severity {
		case source.Critical:
			crit++
		case source.Warning:
			warn++
		}
	}
	return m.st.Title.Render("Firing alerts") + fmt.Sprintf("  %d CRITICAL, %d WARNING", crit, warn)
}

// colour paints the severity words after the table has truncated its cells,
// because the table measures cells as plain text.
func (m *Model) colour(view string) string {
	for _, sev := range []source.Severity{source.Critical, source.Warning} {
		label := severity.Label(sev)
		view = strings.ReplaceAll(view, label, severity.Render(m.st, sev))
	}
	return view
}

// detail shows the full message of the selected alert, which the table has
// no room for.
func (m *Model) detail() string {
	t := m.Table()
	if t.Shown() == 0 {
		return m.st.Muted.Render("no alert matches the filter")
	}
	a := m.selected()
	text := fmt.Sprintf("%s: %s (observed %s, threshold %s)",
		a.Name, a.Message, format.Float(a.Observed, 2), format.Float(a.Threshold, 2))
	return lipgloss.NewStyle().Width(m.w).MaxHeight(detailLines).Render(text)
}

// selected finds the alert under the cursor by its row, since the filter
// changes row positions.
func (m *Model) selected() source.Alert {
	row := m.table.SelectedRow()
	for _, a := range m.alerts {
		if len(row) > 2 && a.Name == row[1] && a.Table == row[2] {
			return a
		}
	}
	return source.Alert{}
}
