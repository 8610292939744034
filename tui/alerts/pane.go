package alerts

import (
	"context"
	"time"

	"hmperf/tui/pane"
	"hmperf/tui/source"
)

// Title names the tab.
func (m *Model) Title() string { return "Alerts" }

// ShortTitle names the tab on a narrow tab line.
func (m *Model) ShortTitle() string { return "Alerts" }

// Poll reads the firing alerts.
func (m *Model) Poll(ctx context.Context, src source.Poller) (any, error) { return src.Alerts(ctx) }

// Apply shows a poll's answer.
func (m *Model) Apply(data any, _ time.Time) {
	if d, ok := data.([]source.Alert); ok {
		m.SetData(d)
	}
}

// Header: the alerts are what the header's badge counts.
func (m *Model) Header() pane.Header { return pane.HeaderAlerts }
