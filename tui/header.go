package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"hmperf/tui/pane"
	"hmperf/tui/servers"
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

// countAlerts counts firing alerts by severity, as Overview does; from is
// the panel that read them.
func countAlerts(from Panel, alerts []source.Alert) alertCounts {
	c := alertCounts{from: from, known: true}
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
//
// With several servers the badge covers all of them, the title names the
// server the panels show, and a second line lists every server with its
// role, version and state.
func (m *Model) headerView() string {
	badge := m.alertBadge()
	line := m.styles.Title.Render("hmperf")
	if r := m.opts.Replay; r != nil {
		line += "  " + m.styles.Badge.Render(r.State().Header())
	}
	if m.fleet() {
		line += "  showing " + m.serverLabel(m.shown)
		if name := m.names[m.shown]; name != m.serverLabel(m.shown) {
			line += " " + m.styles.Muted.Render(name)
		}
	} else if m.server != "" {
		line += "  " + m.server + "  " + m.styles.Muted.Render(m.serverVersion)
	}
	line = ansi.Truncate(line, max(m.width-lipgloss.Width(badge)-1, 0), "…")
	gap := strings.Repeat(" ", max(m.width-lipgloss.Width(line)-lipgloss.Width(badge), 1))
	head := ansi.Truncate(line+gap+badge, m.width, "…")
	if m.fleet() {
		head += "\n" + m.serversLine()
	}
	return head
}

// serverLabel is server i's short name in the header, as the Servers panel
// labels it.
func (m *Model) serverLabel(i int) string { return servers.Label(i, m.names[i]) }

// serversLine lists every server: label, role, version and state, the
// shown one bracketed, a failing one in the colour of its state.
func (m *Model) serversLine() string {
	parts := make([]string, 0, len(m.names))
	for i, t := range m.serverList() {
		text := strings.Join(nonEmpty(m.serverLabel(i), t.Role, t.Version, t.Label()), " ")
		if i == m.shown {
			text = "[" + text + "]"
		}
		switch t.State {
		case servers.Stale:
			text = m.styles.Warn.Render(text)
		case servers.Down:
			text = m.styles.Crit.Render(text)
		case servers.Up:
			if i == m.shown {
				text = m.styles.Title.Render(text)
			}
		default:
			text = m.styles.Muted.Render(text)
		}
		parts = append(parts, text)
	}
	return ansi.Truncate(strings.Join(parts, m.styles.Muted.Render(" · ")), m.width, "…")
}

func nonEmpty(ss ...string) []string {
	out := ss[:0]
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// fleetAlerts is the badge's counts over every server: the alerts of each
// as last read, and the servers whose alerts are not known now (not
// reached this poll, or their check failed), which count as UNKNOWN, as
// `hmperf alerts` exits 3 for a server it cannot read.
func (m *Model) fleetAlerts() alertCounts {
	from, _ := m.find(pane.HeaderServers)
	c := alertCounts{from: from}
	unknown := 0
	for _, t := range m.serverList() {
		switch {
		case t.State == servers.Unknown:
			return c // not polled yet: known stays false
		case t.State != servers.Up || t.AlertsUnknown != "":
			unknown++
		default:
			c.critical += t.Critical
			c.warning += t.Warning
		}
	}
	c.known = true
	if unknown > 0 {
		c.unknown = fmt.Sprintf("%d of %d servers", unknown, len(m.names))
	}
	return c
}

// alertBadge says how many alerts fire, in words as well as colour. Counts
// whose poll has since failed are dimmed: they may be out of date.
func (m *Model) alertBadge() string {
	c := m.firing
	if m.fleet() {
		c = m.fleetAlerts()
	}
	var badge string
	switch {
	case c.unknown != "" && c.critical > 0:
		// A CRITICAL outranks an unknown server, as in `hmperf alerts`.
		badge = m.styles.Crit.Render(fmt.Sprintf("▲ %d CRITICAL", c.critical)) + " " + m.styles.Warn.Render("? "+c.unknown)
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
