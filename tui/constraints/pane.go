package constraints

import (
	"context"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"hmperf/tui/pane"
	"hmperf/tui/source"
)

// Title names the tab.
func (m *Model) Title() string { return "Constraints" }

// ShortTitle names the tab on a narrow tab line.
func (m *Model) ShortTitle() string { return "Constr" }

// Poll reads the constraint monitor.
func (m *Model) Poll(ctx context.Context, src source.Poller) (any, error) {
	return src.Constraints(ctx)
}

// Apply shows a poll's answer.
func (m *Model) Apply(data any, _ time.Time) {
	if d, ok := data.([]source.ConstraintRow); ok {
		m.SetData(d)
	}
}

// Header: the monitor says nothing about alerts.
func (m *Model) Header() pane.Header { return pane.HeaderNone }

// keyMap is the panel's bindings.
type keyMap struct{ metric key.Binding }

func newKeyMap() keyMap { return keyMap{metric: pane.Binding("m", "chart metric", "m")} }

// Keys returns the panel's bindings.
func (m *Model) Keys() pane.Keys {
	return pane.Keys{Short: []key.Binding{m.keys.metric}, Full: []key.Binding{m.keys.metric}}
}

// Configure enables m on the visible panel.
func (m *Model) Configure(env pane.Env) { m.keys.metric.SetEnabled(env.Active) }

// HandleKey switches the chart's metric.
func (m *Model) HandleKey(msg tea.KeyMsg) (pane.Request, bool) {
	if !key.Matches(msg, m.keys.metric) {
		return pane.Request{}, false
	}
	m.NextMetric()
	return pane.Request{Status: "chart: " + m.Metric().String()}, true
}
