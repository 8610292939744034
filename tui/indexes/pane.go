package indexes

import (
	"context"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"hmperf/tui/pane"
	"hmperf/tui/source"
)

// Title names the tab.
func (m *Model) Title() string { return "Indexes" }

// ShortTitle names the tab on a narrow tab line.
func (m *Model) ShortTitle() string { return "Index" }

// Poll reads the deferred-index queue.
func (m *Model) Poll(ctx context.Context, src source.Poller) (any, error) { return src.Indexes(ctx) }

// Apply shows a poll's answer.
func (m *Model) Apply(data any, _ time.Time) {
	if d, ok := data.([]source.IndexJob); ok {
		m.SetData(d)
	}
}

// Header: the queue says nothing about alerts.
func (m *Model) Header() pane.Header { return pane.HeaderNone }

// keyMap is the panel's bindings.
type keyMap struct{ process key.Binding }

func newKeyMap() keyMap { return keyMap{process: pane.Binding("p", "build queued indexes", "p")} }

// Keys returns the panel's bindings.
func (m *Model) Keys() pane.Keys {
	p := m.keys.process
	return pane.Keys{Short: []key.Binding{p}, Full: []key.Binding{p}, Write: []key.Binding{p}}
}

// Configure enables p on the visible panel unless read-only.
func (m *Model) Configure(env pane.Env) { m.keys.process.SetEnabled(env.Active && !env.ReadOnly) }

// HandleKey asks to build the queued indexes.
func (m *Model) HandleKey(msg tea.KeyMsg) (pane.Request, bool) {
	if !key.Matches(msg, m.keys.process) {
		return pane.Request{}, false
	}
	return pane.Request{Job: pane.JobIndexes, Confirm: true,
		Prompt: "Build the queued indexes now (CREATE INDEX CONCURRENTLY)?"}, true
}
