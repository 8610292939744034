package migrations

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"hmperf/tui/pane"
	"hmperf/tui/source"
)

// Title names the tab.
func (m *Model) Title() string { return "Migrations" }

// ShortTitle names the tab on a narrow tab line.
func (m *Model) ShortTitle() string { return "Migr" }

// Poll reads the migration status.
func (m *Model) Poll(ctx context.Context, src source.Poller) (any, error) { return src.Migrations(ctx) }

// Apply shows a poll's answer.
func (m *Model) Apply(data any, _ time.Time) {
	if d, ok := data.(source.MigrationStatus); ok {
		m.SetData(d)
	}
}

// Header: the status says nothing about alerts.
func (m *Model) Header() pane.Header { return pane.HeaderNone }

// keyMap is the panel's bindings.
type keyMap struct{ up, down, force key.Binding }

func newKeyMap() keyMap {
	return keyMap{
		up:    pane.Binding("u", "migrate up", "u"),
		down:  pane.Binding("d", "migrate down", "d"),
		force: pane.Binding("f", "force version", "f"),
	}
}

// Keys returns the panel's bindings, every one a write.
func (m *Model) Keys() pane.Keys {
	all := []key.Binding{m.keys.up, m.keys.down, m.keys.force}
	return pane.Keys{Short: all, Full: all, Write: all}
}

// Configure enables u and d on a clean database and f on a dirty one.
func (m *Model) Configure(env pane.Env) {
	on := env.Active && !env.ReadOnly
	dirty := m.data.Dirty
	m.keys.up.SetEnabled(on && !dirty)
	m.keys.down.SetEnabled(on && !dirty)
	m.keys.force.SetEnabled(on && dirty)
}

// HandleKey asks before a migration, or says why there is none to run.
func (m *Model) HandleKey(msg tea.KeyMsg) (pane.Request, bool) {
	switch {
	case key.Matches(msg, m.keys.up):
		return m.askUp(), true
	case key.Matches(msg, m.keys.down):
		return m.askDown(), true
	case key.Matches(msg, m.keys.force):
		return m.askForce(), true
	}
	return pane.Request{}, false
}

func (m *Model) askUp() pane.Request {
	pending := pendingCount(m.data)
	if pending == 0 {
		return pane.Request{Status: "no pending migration"}
	}
	return pane.Request{Job: pane.JobMigrateUp, Confirm: true, Want: "yes",
		Prompt: fmt.Sprintf("Apply %d pending migration(s)? Type yes and press enter.", pending)}
}

func (m *Model) askDown() pane.Request {
	cur := m.data.Current
	if cur == 0 {
		return pane.Request{Status: "no migration applied"}
	}
	v := strconv.Itoa(cur)
	return pane.Request{Job: pane.JobMigrateDown, Confirm: true, Want: v,
		Prompt: "Revert migration " + v + "? Type " + v + " and press enter."}
}

func (m *Model) askForce() pane.Request {
	cur := m.data.Current
	return pane.Request{Job: pane.JobForce, Confirm: true, Version: true, Prompt: fmt.Sprintf(
		"Migration %d failed and left the database dirty. Type the version that is really applied "+
			"(%d if the migration left nothing behind, %d if you finished it by hand) and press enter.",
		cur, cur-1, cur)}
}
