package overview

import (
	"context"
	"time"

	"hmperf/tui/pane"
	"hmperf/tui/source"
)

// Title names the tab.
func (m *Model) Title() string { return "Overview" }

// ShortTitle names the tab on a narrow tab line.
func (m *Model) ShortTitle() string { return "Over" }

// Poll reads the overview.
func (m *Model) Poll(ctx context.Context, src source.Poller) (any, error) { return src.Overview(ctx) }

// Apply shows a poll's answer.
func (m *Model) Apply(data any, _ time.Time) {
	if d, ok := data.(source.Overview); ok {
		m.SetData(d)
	}
}

// Header: the overview carries the alert counts.
func (m *Model) Header() pane.Header { return pane.HeaderAlertCounts }
