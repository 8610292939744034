package tui

import (
	tea "github.com/charmbracelet/bubbletea"

	"hmperf/tui/datatable"
)

// Panel identifies one of the dashboard's tabs.
type Panel int

// The panels, in tab order; the number key of each is its position plus one.
const (
	Overview Panel = iota
	Constraints
	Alerts
	Indexes
	Benchmarks
	Ingest
	Migrations
	Servers
	panelCount
)

// String returns the panel's tab title.
func (p Panel) String() string {
	switch p {
	case Overview:
		return "Overview"
	case Constraints:
		return "Constraints"
	case Alerts:
		return "Alerts"
	case Indexes:
		return "Indexes"
	case Benchmarks:
		return "Benchmarks"
	case Ingest:
		return "Ingest"
	case Migrations:
		return "Migrations"
	case Servers:
		return "Servers"
	}
	return "?"
}

// Short returns the panel's title in at most seven letters, for a narrow
// tab line.
func (p Panel) Short() string {
	switch p {
	case Overview:
		return "Over"
	case Constraints:
		return "Constr"
	case Indexes:
		return "Index"
	case Benchmarks:
		return "Bench"
	case Migrations:
		return "Migr"
	}
	return p.String()
}

// panel is what the root needs of every sub-model.
type panel interface {
	SetSize(w, h int)
	Update(msg tea.Msg) tea.Cmd
	View() string
	// Table returns the table that / filters and e exports, or nil.
	Table() *datatable.Model
}

// panel returns the sub-model of p.
func (m *Model) panel(p Panel) panel {
	switch p {
	case Constraints:
		return &m.constraints
	case Alerts:
		return &m.alerts
	case Indexes:
		return &m.indexes
	case Benchmarks:
		return &m.benchmarks
	case Ingest:
		return &m.ingest
	case Migrations:
		return &m.migrations
	case Servers:
		return &m.servers
	}
	return &m.overview
}
