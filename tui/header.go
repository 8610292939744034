package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"hmperf/tui/source"
)

// alertCounts is what the header says about firing alerts: the counts by
// severity from whichever of Overview and Alerts answered last.
type alertCounts struct {
	from              Panel
	known             bool
	critical, warning int
	// unknown is why the last alert check could not run; the counts are
	// then not known, whatever they were before.
	unknown string
}

// uncheckedAlerts is the header's state after the alert check of panel
// from failed with err: UNKNOWN, as `hmperf alerts` exits 3.
func uncheckedAlerts(from Panel, err error) alertCounts {
	return alertCounts{from: from, unknown: err.Error()}
}

// countAlerts counts firing alerts by severity, as Overview does.
func countAlerts(alerts []source.Alert) alertCounts {
	c := alertCounts{from: Alerts, known: true}
	for _, a := range alerts {
		switch a.Severity {
		case source.Critical:
			c.critical++
		case source.Warning:
			c.warning++
		}
	}
	return c
}

// headerView is the title and server on the left and the alert badge on the
// right, so that on-call sees a firing alert whatever the panel.
func (m *Model) headerView() string {
	badge := m.alertBadge()
	line := m.styles.Title.Render("hmperf")
	if d := m.overview.Data(); d.Server != "" {
		line += "  " + d.Server + "  " + m.styles.Muted.Render(d.ServerVersion)
	}
	line = ansi.Truncate(line, max(m.width-lipgloss.Width(badge)-1, 0), "…")
	gap := strings.Repeat(" ", max(m.width-lipgloss.Width(line)-lipgloss.Width(badge), 1))
	return ansi.Truncate(line+gap+badge, m.width, "…")
}

// alertBadge says how many alerts fire, in words as well as colour. Counts
// whose poll has since failed are dimmed: they may be out of date.
func (m *Model) alertBadge() string {
	c := m.firing
	var badge string
	switch {
	case c.unknown != "":
		// Half the width, so the server stays readable beside it.
		return ansi.Truncate(m.styles.Warn.Render("? alerts UNKNOWN: "+c.unknown), max(m.width/2, 20), "…")
	case !c.known:
		return m.styles.Muted.Render("alerts: ?")
	case c.critical == 0 && c.warning == 0:
		badge = m.styles.OK.Render("no alerts firing")
	default:
		var parts []string
		if c.critical > 0 {
			parts = append(parts, m.styles.Crit.Render(fmt.Sprintf("▲ %d CRITICAL", c.critical)))
		}
		if c.warning > 0 {
			parts = append(parts, m.styles.Warn.Render(fmt.Sprintf("△ %d WARNING", c.warning)))
		}
		badge = strings.Join(parts, " ")
	}
	if !m.polls[c.from].staleSince.IsZero() {
		return m.styles.Stale.Render(ansi.Strip(badge))
	}
	return badge
}
