// Package activity is the Activity panel: every session of the server as a
// lock tree (a waiter under each session blocking it, roots marked with how
// many sessions they hold up), idle-in-transaction sessions, the oldest
// xmin holder and running maintenance, with cancel (c) and terminate (k)
// behind a typed confirmation. It owns its keys, its help and the request
// for its confirmation; the root runs the confirmed signal.
package activity

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"hmperf/tui/format"
	"hmperf/tui/source"
	"hmperf/tui/theme"
)

// KeyMap is the panel's keys.
type KeyMap struct {
	Up, Down, Cancel, Terminate key.Binding
}

// NewKeyMap returns the panel's keys, all enabled; Configure decides.
func NewKeyMap() KeyMap {
	return KeyMap{
		Up:        key.NewBinding(key.WithKeys("up"), key.WithHelp("↑", "previous session")),
		Down:      key.NewBinding(key.WithKeys("down"), key.WithHelp("↓", "next session")),
		Cancel:    key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "cancel the session's query")),
		Terminate: key.NewBinding(key.WithKeys("k"), key.WithHelp("k", "terminate the session")),
	}
}

// Model is the Activity panel.
type Model struct {
	st     theme.Styles
	keys   KeyMap
	data   source.Activity
	loaded bool
	rows   []row
	cursor int
	top    int
	w, h   int
	// readOnly is the dashboard's: no signal from a read-only session or
	// a replay.
	readOnly bool
}

// row is one line of the tree: a session at a depth.
type row struct {
	s     source.Session
	depth int
}

// New returns an empty panel.
func New(st theme.Styles) Model {
	m := Model{st: st, keys: NewKeyMap()}
	m.SetSize(80, 20)
	return m
}

// SetSize fits the panel into w×h cells.
func (m *Model) SetSize(w, h int) { m.w, m.h = max(w, 1), max(h, 1) }

// SetData shows a new reading, keeping the cursor on the same pid.
func (m *Model) SetData(a source.Activity) {
	pid := -1
	if m.cursor < len(m.rows) {
		pid = m.rows[m.cursor].s.PID
	}
	m.data, m.loaded = a, true
	m.rows = Layout(a)
	m.cursor = 0
	for i, r := range m.rows {
		if r.s.PID == pid {
			m.cursor = i
			break
		}
	}
}

// Layout orders the sessions as the tree shows them: each root, then
// depth first everyone waiting behind it (a session blocked by two shows
// under both), then the sessions outside any tree.
func Layout(a source.Activity) []row {
	byPID := map[int]source.Session{}
	for _, s := range a.Sessions {
		byPID[s.PID] = s
	}
	waiters := map[int][]int{}
	for _, s := range a.Sessions {
		for _, b := range s.BlockedBy {
			waiters[b] = append(waiters[b], s.PID)
		}
	}
	var out []row
	shown := map[int]bool{}
	var walk func(pid, depth int, path map[int]bool)
	walk = func(pid, depth int, path map[int]bool) {
		s, ok := byPID[pid]
		if !ok {
			s = source.Session{PID: pid, State: "not a session (prepared transaction?)", Root: true}
		}
		out = append(out, row{s, depth})
		shown[pid], path[pid] = true, true
		for _, w := range waiters[pid] {
			if !path[w] {
				walk(w, depth+1, path)
			}
		}
		delete(path, pid)
	}
	for _, r := range a.Roots {
		walk(r.PID, 0, map[int]bool{})
	}
	for _, s := range a.Sessions {
		if !shown[s.PID] {
			out = append(out, row{s, 0})
		}
	}
	return out
}

// Update has nothing to do: the panel's keys come through HandleKey.
func (m *Model) Update(tea.Msg) tea.Cmd { return nil }

// View renders the panel.
func (m *Model) View() string {
	if !m.loaded {
		return m.st.Title.Render("Activity") + "\n\nLoading"
	}
	var b strings.Builder
	b.WriteString(m.summary() + "\n")
	b.WriteString(m.xmin() + "\n")
	header := "  " + m.columns("PID", "STATE", "WAIT", "XACT", "QUERY", "APPLICATION", "QUERY TEXT")
	b.WriteString(m.st.Muted.Render(format.Truncate(header, m.w)) + "\n")
	bottom := m.bottomLines()
	room := max(m.h-3-len(bottom), 1)
	if m.cursor < m.top {
		m.top = m.cursor
	}
	if m.cursor >= m.top+room {
		m.top = m.cursor - room + 1
	}
	for i := m.top; i < len(m.rows) && i < m.top+room; i++ {
		mark := "  "
		if i == m.cursor {
			mark = "▶ "
		}
		line := format.Truncate(mark+m.line(m.rows[i]), m.w)
		switch {
		case i == m.cursor:
			line = m.st.Bold.Render(line)
		case m.rows[i].s.Root:
			line = m.st.Crit.Render(line)
		case m.rows[i].s.IdleInTransaction:
			line = m.st.Warn.Render(line)
		}
		b.WriteString(line + "\n")
	}
	for _, l := range bottom {
		b.WriteString(format.Truncate(l, m.w) + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

func (m *Model) summary() string {
	idle, waiting := 0, 0
	for _, s := range m.data.Sessions {
		if s.IdleInTransaction {
			idle++
		}
		if len(s.BlockedBy) > 0 {
			waiting++
		}
	}
	return m.st.Title.Render("Activity") + fmt.Sprintf("  %d sessions, %d waiting on locks, %d root blockers, %d idle in transaction",
		len(m.data.Sessions), waiting, len(m.data.Roots), idle)
}

func (m *Model) xmin() string {
	h := m.data.XminHolder
	if h == nil {
		return "oldest xmin: nothing holds one back"
	}
	age := ""
	if h.AgeSeconds != nil {
		age = ", open " + seconds(h.AgeSeconds)
	}
	return fmt.Sprintf("oldest xmin held by %s %s (%s): %s transactions old%s", h.Kind, h.ID, h.State, format.Int(h.XidAge), age)
}

func (m *Model) line(r row) string {
	s := r.s
	pid := strconv.Itoa(s.PID)
	switch {
	case s.Root:
		pid += fmt.Sprintf(" ROOT▸%d", s.HoldsUp)
	case r.depth > 0:
		pid = strings.Repeat(" ", 2*(r.depth-1)) + "└ " + pid
	}
	state := s.State
	if s.IdleInTransaction {
		state = "IDLE IN TX"
	}
	wait := strings.Trim(s.WaitEventType+"/"+s.WaitEvent, "/")
	if s.LockWait != nil {
		wait = "Lock " + seconds(s.LockWait)
	}
	return m.columns(pid, state, wait, seconds(s.XactAge), seconds(s.QueryAge), s.ApplicationName, s.Query)
}

// wide is the width from which the application gets a column.
const wide = 100

// columns lays out one line; below wide the application is left out and
// the state and wait narrower, so that the query keeps its room.
func (m *Model) columns(pid, state, wait, xact, query, app, text string) string {
	if m.w < wide {
		return fmt.Sprintf("%-16s %-11s %-9s %6s %6s  %s", format.Truncate(pid, 16), format.Truncate(state, 11),
			format.Truncate(wait, 9), xact, query, text)
	}
	return fmt.Sprintf("%-18s %-20s %-12s %7s %7s  %-14s %s", format.Truncate(pid, 18), format.Truncate(state, 20),
		format.Truncate(wait, 12), xact, query, format.Truncate(app, 14), text)
}

// bottomLines are the progress of maintenance.
func (m *Model) bottomLines() []string {
	var out []string
	for _, p := range m.data.Progress {
		bar := "    ?%"
		if p.Percent != nil {
			bar = m.st.Bar(10, *p.Percent/100)
		}
		out = append(out, fmt.Sprintf("%s pid %d %s: %s (%s of %s %s) %s", bar, p.PID,
			p.Command, p.Relation, format.Int(p.Done), format.Int(p.Total), p.Unit, p.Phase))
	}
	return out
}

func seconds(v *float64) string {
	if v == nil {
		return "-"
	}
	d := time.Duration(*v * float64(time.Second))
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%.0fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}
