package servers

import (
	"context"
	"time"

	"hmperf/tui/pane"
	"hmperf/tui/source"
)

// Title names the tab.
func (m *Model) Title() string { return "Servers" }

// ShortTitle names the tab on a narrow tab line.
func (m *Model) ShortTitle() string { return "Servers" }

// Poll reads every server's state.
func (m *Model) Poll(ctx context.Context, src source.Poller) (any, error) { return src.Servers(ctx) }

// Apply shows a poll's answer, read at now.
func (m *Model) Apply(data any, now time.Time) {
	if d, ok := data.([]source.Server); ok {
		m.SetData(d, now)
	}
}

// Header: the servers carry every server's alerts.
func (m *Model) Header() pane.Header { return pane.HeaderServers }
