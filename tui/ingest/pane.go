package ingest

import (
	"context"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"hmperf/tui/pane"
	"hmperf/tui/source"
)

// Title names the tab.
func (m *Model) Title() string { return "Ingest" }

// ShortTitle names the tab on a narrow tab line.
func (m *Model) ShortTitle() string { return "Ingest" }

// Poll reads the ingest statistics.
func (m *Model) Poll(ctx context.Context, src source.Poller) (any, error) { return src.Ingest(ctx) }

// Apply shows a poll's answer.
func (m *Model) Apply(data any, _ time.Time) {
	if d, ok := data.(source.IngestStats); ok {
		m.SetData(d)
	}
}

// Header: the statistics say nothing about alerts.
func (m *Model) Header() pane.Header { return pane.HeaderNone }

// JobRunning shows the sample ingest starting or stopping.
func (m *Model) JobRunning(j pane.Job, running bool) {
	if j == pane.JobIngest {
		m.SetRunning(running)
	}
}

// keyMap is the panel's bindings.
type keyMap struct{ ingest key.Binding }

func newKeyMap() keyMap { return keyMap{ingest: pane.Binding("i", "start/stop ingest", "i")} }

// Keys returns the panel's bindings.
func (m *Model) Keys() pane.Keys {
	i := m.keys.ingest
	return pane.Keys{Short: []key.Binding{i}, Full: []key.Binding{i}, Write: []key.Binding{i}}
}

// Configure enables i on the visible panel unless read-only.
func (m *Model) Configure(env pane.Env) { m.keys.ingest.SetEnabled(env.Active && !env.ReadOnly) }

// HandleKey stops the sample ingest, or asks before starting one.
func (m *Model) HandleKey(msg tea.KeyMsg) (pane.Request, bool) {
	if !key.Matches(msg, m.keys.ingest) {
		return pane.Request{}, false
	}
	if m.running {
		return pane.Request{Job: pane.JobIngest}, true // stopping needs no confirmation
	}
	return pane.Request{Job: pane.JobIngest, Confirm: true, Prompt: Prompt(m.Target())}, true
}

// Prompt asks before a sample ingest and says where its generated
// rows go.
func Prompt(t source.WriteTarget) string {
	if t == source.TargetUnknown {
		return "Start a sample ingest? Where it writes is not known yet: hmperf decides as it starts " +
			"(the sandbox hmperf_sandbox on a database it did not create)."
	}
	return "Start a sample ingest, writing generated rows to " + t.String() + "?"
}
