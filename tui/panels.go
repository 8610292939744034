package tui

import (
	"hmperf/tui/activity"
	"hmperf/tui/alerts"
	"hmperf/tui/benchmarks"
	"hmperf/tui/constraints"
	"hmperf/tui/indexes"
	"hmperf/tui/ingest"
	"hmperf/tui/migrations"
	"hmperf/tui/overview"
	"hmperf/tui/pane"
	"hmperf/tui/servers"
	"hmperf/tui/theme"
)

// Panel is a tab of the dashboard: its position in the panel list. Its
// number key is the position plus one.
type Panel int

// panelList returns the dashboard's panels in tab order. The tab bar, the
// number keys, polling, the footer and help all come from this list:
// adding a panel is adding its line here.
func panelList(st theme.Styles, names []string) []pane.Panel {
	return []pane.Panel{
		ref(overview.New(st)),
		ref(constraints.New(st)),
		ref(alerts.New(st)),
		ref(indexes.New(st)),
		ref(benchmarks.New(st)),
		ref(ingest.New(st)),
		ref(migrations.New(st)),
		ref(servers.New(st, names)),
		ref(activity.New(st)),
	}
}

// maxPanels is how many panels the number keys 1-9 reach.
const maxPanels = 9

func ref[T any](v T) *T { return &v }

// panel returns the sub-model of p.
func (m *Model) panel(p Panel) pane.Panel { return m.panels[p] }

// title is the tab title of p.
func (m *Model) title(p Panel) string { return m.panels[p].Title() }

// each calls f on every panel, in tab order.
func (m *Model) each(f func(p Panel, pn pane.Panel)) {
	for i, pn := range m.panels {
		f(Panel(i), pn)
	}
}

// find returns the first panel whose data tells the header h, and false
// when no panel does.
func (m *Model) find(h pane.Header) (Panel, bool) {
	for i, pn := range m.panels {
		if pn.Header() == h {
			return Panel(i), true
		}
	}
	return 0, false
}

// serverList is the servers as the panel that reads every server tracks
// them, nil when there is none.
func (m *Model) serverList() []servers.Tracked {
	for _, pn := range m.panels {
		if s, ok := pn.(*servers.Model); ok {
			return s.List()
		}
	}
	return nil
}
