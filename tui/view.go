package tui

import (
	"errors"
	"fmt"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"hmperf/tui/format"
	"hmperf/tui/pane"
	"hmperf/tui/source"
)

// View renders the whole screen: header, tabs, panel, status bar, footer.
func (m Model) View() string {
	if m.frame.kept {
		return m.frame.text
	}
	text := strings.Join([]string{m.headerView(), m.tabsView(), m.bodyView(), m.statusView(), m.footerView()}, "\n")
	// A replay's header follows the player, which moves between messages.
	m.frame.text, m.frame.kept = text, m.opts.Replay == nil
	return text
}

// frame is the text of the last View, kept until a message that may change
// the screen: the refresh tick changes nothing on it, and drawing the same
// frame again on every tick was a tenth of an idle dashboard's CPU.
type frame struct {
	text string
	kept bool
}

// tabsView lists the panels; only the active one is bracketed. When the
// full titles do not fit, the other panels get their short ones, so that
// more fit in 80 columns.
func (m *Model) tabsView() string {
	line := m.tabs(pane.Panel.Title)
	if lipgloss.Width(line) > m.width {
		line = m.tabs(pane.Panel.ShortTitle)
	}
	return ansi.Truncate(line, m.width, "…")
}

// tabs renders the tab line, naming the inactive panels with title.
func (m *Model) tabs(title func(pane.Panel) string) string {
	tabs := make([]string, 0, len(m.panels))
	m.each(func(p Panel, pn pane.Panel) {
		if p == m.active {
			tabs = append(tabs, m.styles.ActiveTab.Render(fmt.Sprintf("[%d:%s]", p+1, pn.Title())))
		} else {
			tabs = append(tabs, m.styles.Tab.Render(fmt.Sprintf("%d:%s", p+1, title(pn))))
		}
	})
	return strings.Join(tabs, " ")
}

// bodyView is the panel, or the modal over it, cut and padded to exactly
// the body's size so that the status bar stays at the bottom.
func (m *Model) bodyView() string {
	var body string
	switch {
	case m.confirm != nil:
		body = m.confirmView()
	case m.showHelp:
		body = m.helpView()
	default:
		body = m.panelView()
	}
	h := m.bodyHeight()
	return lipgloss.NewStyle().Height(h).MaxHeight(h).MaxWidth(m.width).Render(body)
}

// panelView shows loading and error states until the first data arrives,
// and stale data dimmed after a failure.
func (m *Model) panelView() string {
	ps := m.polls[m.active]
	var missing *source.ErrMissing
	switch {
	case errors.As(ps.err, &missing):
		return m.missingView(missing)
	case !ps.loaded && ps.err != nil:
		return m.styles.Crit.Render("ERROR: could not load "+m.title(m.active)+": "+ps.err.Error()) +
			"\n" + m.styles.Muted.Render("retrying in "+interval(m.ticker.delay()))
	case !ps.loaded:
		return m.styles.Muted.Render("Loading " + m.title(m.active) + "…")
	case !ps.staleSince.IsZero():
		return m.styles.Stale.Render(ansi.Strip(m.panel(m.active).View()))
	}
	return m.panel(m.active).View()
}

// missingView says which database object the panel needs and how to add
// it, wrapped to the screen: a missing object is not a passing fault, so no
// retry countdown, and no raw SQL error cut at the edge.
func (m *Model) missingView(e *source.ErrMissing) string {
	wrap := lipgloss.NewStyle().Width(m.width)
	head := m.title(m.active) + " cannot be shown: this database lacks what it reads."
	what, fix := "Missing: ", "To add it, run: "+e.Fix
	if e.Denied {
		head = m.title(m.active) + " cannot be shown: the role may not read what it needs."
		what, fix = "Refused: ", "To fix it, "+e.Fix+"."
	}
	return strings.Join([]string{
		wrap.Inherit(m.styles.Warn).Render(head),
		wrap.Render(what + e.Object),
		wrap.Inherit(m.styles.Title).Render(fix),
	}, "\n")
}

func (m *Model) confirmView() string {
	c := m.confirm
	w := min(m.width-4, 70)
	text := lipgloss.NewStyle().Width(w).Render(c.prompt)
	if c.typed() {
		text += "\n\n" + c.input.View()
		if c.err != "" {
			text += "\n" + m.styles.Warn.Render(c.err)
		}
		text += "\n" + m.styles.Muted.Render("enter confirms, esc cancels")
	} else {
		text += "\n\n" + m.styles.Muted.Render("y confirms, n or esc cancels")
	}
	box := m.styles.Modal.Render(m.styles.Title.Render("Confirm") + "\n" + text)
	return lipgloss.Place(m.width, m.bodyHeight(), lipgloss.Center, lipgloss.Center, box)
}

// helpView is the ? overlay. Help hides disabled bindings, so the write keys
// read-only mode disables are listed apart, marked as such.
func (m *Model) helpView() string {
	// The modal's border and padding take four columns.
	wrap := lipgloss.NewStyle().Width(min(m.width-4, 100))
	parts := []string{m.styles.Title.Render("Keys"), m.help.FullHelpView(m.fullHelp()),
		wrap.Inherit(m.styles.Muted).Render("↑/↓ j/k move in tables, pgup/pgdn page, g/G top and bottom; any key closes help")}
	if m.src.ReadOnly() {
		var ro []string
		for _, b := range m.writeKeys() {
			ro = append(ro, b.Help().Key+" "+b.Help().Desc)
		}
		parts = append(parts, wrap.Inherit(m.styles.Warn).Render("(read-only) disabled: "+strings.Join(ro, ", ")))
	}
	return m.styles.Modal.Render(strings.Join(parts, "\n\n"))
}

// statusView is the status bar: what happened last on the left, the
// dashboard's own state on the right.
func (m *Model) statusView() string {
	right := fmt.Sprintf("query %dms · every %s", m.ticker.lastQuery.Milliseconds(), interval(m.ticker.interval))
	if m.ticker.paused {
		right += " · PAUSED"
	}
	if m.src.ReadOnly() {
		right += " · READ-ONLY"
	}
	left := m.status
	if ps := m.polls[m.active]; !ps.staleSince.IsZero() && ps.loaded {
		left = m.styles.Warn.Render(fmt.Sprintf("STALE since %s: %v; retry in %s",
			format.Clock(ps.staleSince), ps.err, interval(m.ticker.delay())))
	}
	room := max(m.width-lipgloss.Width(right)-1, 0)
	left = ansi.Truncate(left, room, "…")
	gap := strings.Repeat(" ", max(m.width-lipgloss.Width(left)-lipgloss.Width(right), 1))
	return left + gap + m.styles.StatusBar.Render(right)
}

func (m *Model) footerView() string {
	if m.filtering {
		return m.filter.View() + m.styles.Muted.Render("  enter keeps, esc clears")
	}
	// help only cuts the line when its ellipsis fits, so cut it here too.
	return ansi.Truncate(m.help.ShortHelpView(m.shortHelp()), m.width, "…")
}
