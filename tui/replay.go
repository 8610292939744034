package tui

import (
	"slices"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"hmperf/tui/pane"
)

// replayHelp is the status line of a replay until another replaces it.
const replayHelp = "REPLAY: space pause · ←/→ step · +/- speed · g jump to a time · writes disabled"

// readOnlyWhy is why a write key does nothing.
func (m *Model) readOnlyWhy() string {
	if m.opts.Replay != nil {
		return "replay: writes are disabled (this is a recording)"
	}
	return "read-only: writes are disabled"
}

// isWriteKey reports whether msg is one of the panel's write keys,
// enabled or not: a disabled one then says why instead of doing nothing.
func isWriteKey(k pane.Keys, msg tea.KeyMsg) bool {
	for _, b := range k.Write {
		if slices.Contains(b.Keys(), msg.String()) {
			return true
		}
	}
	return false
}

// replayKey drives the recording being played: space pauses, ←/→ step
// one record, +/- change the speed, g asks for a time to jump to. false
// when there is no replay or the key is not one of these.
func (m *Model) replayKey(msg tea.KeyMsg) (tea.Cmd, bool) {
	p := m.opts.Replay
	if p == nil {
		return nil, false
	}
	if m.jumping {
		return m.jumpKey(msg), true
	}
	switch msg.String() {
	case " ":
		p.TogglePause()
	case "left":
		p.Step(-1)
	case "right":
		p.Step(1)
	case "+", "=":
		p.Faster()
	case "-":
		p.Slower()
	case "g":
		m.jumping = true
		m.jump = newInput("jump to (15:04[:05] UTC or RFC 3339): ", 40)
		m.jump.Focus()
		m.status = m.jump.View()
		return nil, true
	default:
		return nil, false
	}
	return m.fetch(m.active), true
}

// jumpKey edits the time to jump to; enter jumps, esc gives up.
func (m *Model) jumpKey(msg tea.KeyMsg) tea.Cmd {
	switch msg.Type {
	case tea.KeyEsc:
		m.jumping, m.status = false, replayHelp
		return nil
	case tea.KeyEnter:
		m.jumping = false
		if err := m.opts.Replay.Jump(strings.TrimSpace(m.jump.Value())); err != nil {
			m.status = err.Error()
			return nil
		}
		m.status = replayHelp
		return m.fetch(m.active)
	}
	m.jump, _ = m.jump.Update(msg)
	m.status = m.jump.View()
	return nil
}
