// Package indexes is the deferred-index panel: the build queue and a
// progress bar for each build that is running.
package indexes

import (
	"fmt"
	"strconv"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"hmperf/tui/datatable"
	"hmperf/tui/format"
	"hmperf/tui/source"
	"hmperf/tui/theme"
)

// maxBars is how many running builds get a progress bar; the rest are in
// the table.
const maxBars = 4

// Model is the indexes panel.
type Model struct {
	keys    keyMap
	st      theme.Styles
	jobs    []source.IndexJob
	running []source.IndexJob
	table   datatable.Model
	w, h    int
}

// New returns an empty indexes panel.
func New(st theme.Styles) Model {
	m := Model{st: st, table: datatable.New(columns(), st.Table)}
	m.keys = newKeyMap()
	m.SetSize(80, 20)
	return m
}

func columns() []datatable.Column {
	return []datatable.Column{
		{Title: "ID", Width: 4},
		{Title: "Index", Width: 18, Flex: true},
		{Title: "Table", Width: 14},
		{Title: "Kind", Width: 5, Optional: true},
		{Title: "Strategy", Width: 9, Optional: true},
		{Title: "Status", Width: 7},
		{Title: "Scheduled", Width: 11, Optional: true},
		{Title: "Started", Width: 11, Optional: true},
		{Title: "Finished", Width: 11, Optional: true},
		{Title: "Tries", Width: 5, Optional: true},
		{Title: "Error", Width: 12, Flex: true},
	}
}

// SetData shows a new queue.
func (m *Model) SetData(jobs []source.IndexJob) {
	m.jobs = jobs
	m.running = m.running[:0:0]
	rows := make([][]string, len(jobs))
	for i, j := range jobs {
		if j.Status == source.IndexRunning {
			m.running = append(m.running, j)
		}
		rows[i] = []string{
			strconv.FormatInt(j.ID, 10), j.Index, j.Table, j.Kind, j.Strategy, string(j.Status),
			format.Stamp(j.ScheduledAt), format.Stamp(j.StartedAt), format.Stamp(j.FinishedAt),
			strconv.Itoa(j.Attempts), j.Error,
		}
	}
	m.table.SetRows(rows)
	m.SetSize(m.w, m.h)
}

// barLines is the height the progress section takes.
func (m *Model) barLines() int {
	return 1 + max(min(len(m.running), maxBars), 1)
}

// SetSize fits the panel into w×h cells.
func (m *Model) SetSize(w, h int) {
	m.w, m.h = max(w, 1), max(h, 1)
	m.table.SetSize(m.w, max(m.h-m.barLines()-2, 2))
}

// Update moves the table cursor.
func (m *Model) Update(msg tea.Msg) tea.Cmd { return m.table.Update(msg) }

// Table returns the panel's table for filtering and export.
func (m *Model) Table() *datatable.Model { return &m.table }

// View renders the panel.
func (m *Model) View() string {
	return m.summary() + "\n" + m.table.View() + "\n" + m.bars()
}

func (m *Model) summary() string {
	counts := map[source.IndexStatus]int{}
	for _, j := range m.jobs {
		counts[j.Status]++
	}
	failed := fmt.Sprintf("%d failed", counts[source.IndexFailed])
	if counts[source.IndexFailed] > 0 {
		failed = m.st.Crit.Render(failed)
	}
	return m.st.Title.Render("Deferred index queue") + fmt.Sprintf("  %d pending, %d running, %d done, %s",
		counts[source.IndexPending], counts[source.IndexRunning], counts[source.IndexDone], failed)
}

func (m *Model) bars() string {
	title := m.st.Title.Render("Running builds")
	if len(m.running) == 0 {
		return title + "\n" + m.st.Muted.Render("none running")
	}
	lines := []string{title}
	for _, j := range m.running[:min(len(m.running), maxBars)] {
		lines = append(lines, m.bar(j))
	}
	return strings.Join(lines, "\n")
}

// bar is one running build: its name, phase and blocks done.
func (m *Model) bar(j source.IndexJob) string {
	frac := 0.0
	if j.BlocksTotal > 0 {
		frac = float64(j.BlocksDone) / float64(j.BlocksTotal)
	}
	label := fmt.Sprintf("%-20s %-22s ", format.Truncate(j.Index, 20), format.Truncate(j.Phase, 22))
	blocks := fmt.Sprintf(" %s/%s blocks", format.Int(j.BlocksDone), format.Int(j.BlocksTotal))
	width := max(m.w-len(label)-len(blocks), 10)
	return label + m.st.Bar(width, frac) + blocks
}
