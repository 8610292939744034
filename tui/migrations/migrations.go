// Package migrations is the schema panel: the current version, the dirty
// flag with the failing migration, and every migration applied or pending.
package migrations

import (
	"fmt"
	"strconv"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"hmperf/tui/datatable"
	"hmperf/tui/source"
	"hmperf/tui/theme"
)

// Model is the migrations panel.
type Model struct {
	keys  keyMap
	st    theme.Styles
	data  source.MigrationStatus
	table datatable.Model
	w, h  int
}

// New returns an empty migrations panel.
func New(st theme.Styles) Model {
	m := Model{st: st, table: datatable.New(columns(), st.Table)}
	m.keys = newKeyMap()
	m.SetSize(80, 20)
	return m
}

func columns() []datatable.Column {
	return []datatable.Column{
		{Title: "Version", Width: 7},
		{Title: "Name", Width: 30, Flex: true},
		{Title: "State", Width: 14},
	}
}

// SetData shows a new migration status.
func (m *Model) SetData(d source.MigrationStatus) {
	m.data = d
	rows := make([][]string, len(d.Migrations))
	for i, mg := range d.Migrations {
		rows[i] = []string{strconv.Itoa(mg.Version), mg.Name, state(d, mg)}
	}
	m.table.SetRows(rows)
	m.layout()
}

// state names a migration's state. The migration at the current version of
// a dirty database is the one that failed.
func state(d source.MigrationStatus, mg source.Migration) string {
	switch {
	case d.Dirty && mg.Version == d.Current:
		return "FAILED (dirty)"
	case mg.Adopted:
		return "adopted"
	case mg.Applied:
		return "applied"
	}
	return "pending"
}

// Status returns the status last shown, for the confirmations.
func (m *Model) Status() source.MigrationStatus { return m.data }

// SetSize fits the panel into w×h cells.
func (m *Model) SetSize(w, h int) {
	m.w, m.h = max(w, 1), max(h, 1)
	m.layout()
}

// layout gives the table what the wrapped header and hint leave.
func (m *Model) layout() {
	top := lipgloss.Height(m.top())
	m.table.SetSize(m.w, max(m.h-top-1, 2))
}

// top is the header and the hint, wrapped to the panel's width: the
// database's description and the next step can be longer than a line.
func (m *Model) top() string {
	wrap := lipgloss.NewStyle().Width(m.w)
	out := wrap.Render(m.header()) + "\n" + wrap.Render(m.hint())
	for _, r := range m.data.Rollouts {
		out += "\n" + wrap.Render(m.rollout(r))
	}
	return out
}

// rollout is one line of a rollout's progress: phase, rows, rate, ETA,
// the change log's backlog and why it is paused.
func (m *Model) rollout(r source.Rollout) string {
	line := m.st.Title.Render("Rollout "+r.Table) + "  " + r.Phase
	switch {
	case r.Phase == "swapped":
		line += fmt.Sprintf(", swap held its lock %.1f ms; revert or finish", r.LockHeldMS)
	case r.Done:
		line += fmt.Sprintf(", backfill done (%d rows); verify, then swap", r.Copied)
	default:
		line += fmt.Sprintf(", backfill %d of ~%d rows", r.Copied, r.Estimate)
		if r.Rate > 0 {
			line += fmt.Sprintf(", %.0f rows/s", r.Rate)
			if left := r.Estimate - r.Copied; left > 0 {
				line += ", ETA " + time.Duration(float64(left)/r.Rate*float64(time.Second)).Round(time.Second).String()
			}
		}
	}
	line += fmt.Sprintf(", log backlog %d", r.Backlog)
	if r.Throttle != "" {
		line += "  " + m.st.Warn.Render("paused: "+r.Throttle)
	}
	return line
}

// Update moves the table cursor.
func (m *Model) Update(msg tea.Msg) tea.Cmd { return m.table.Update(msg) }

// Table returns the migration table for filtering and export.
func (m *Model) Table() *datatable.Model { return &m.table }

// View renders the panel.
func (m *Model) View() string {
	return m.top() + "\n" + m.table.View()
}

func pendingCount(d source.MigrationStatus) int {
	pending := 0
	for _, mg := range d.Migrations {
		if !mg.Applied {
			pending++
		}
	}
	return pending
}

func (m *Model) header() string {
	pending := pendingCount(m.data)
	head := m.st.Title.Render("Schema") + fmt.Sprintf("  version %d, %d pending", m.data.Current, pending)
	if m.data.Summary != "" {
		head = m.st.Title.Render("Database") + "  " + m.data.Summary + fmt.Sprintf(", %d pending", pending)
	}
	if m.data.Dirty {
		return head + "  " + m.st.Crit.Render(fmt.Sprintf("DIRTY: migration %d failed", m.data.Current))
	}
	return head + "  " + m.st.OK.Render("clean")
}

func (m *Model) hint() string {
	if m.data.Next != "" && !m.data.Dirty && pendingCount(m.data) > 0 {
		return m.st.Warn.Render(m.data.Next)
	}
	if m.data.Dirty {
		return m.st.Warn.Render("Fix the cause, then f records the version that is really applied (no migration runs).")
	}
	return m.st.Muted.Render("u applies all pending, d reverts the latest; both ask for a typed confirmation.")
}
