// Package activity is the Activity panel: every session of the server as a
// lock tree (a waiter under each session blocking it, roots marked with how
// many sessions they hold up), idle-in-transaction sessions, the oldest
// xmin holder and running maintenance, with cancel (c) and terminate (k)
// behind a typed confirmation. It owns its keys, its help and its
// confirmation; the root only hands it keys, sizes and data.
package activity

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"hmperf/tui/format"
	"hmperf/tui/source"
	"hmperf/tui/theme"
)

// Signaller cancels a session's query or ends the session; start tells
// the process from a later one given the same pid.
type Signaller interface {
	Cancel(ctx context.Context, pid int, start time.Time) error
	Terminate(ctx context.Context, pid int, start time.Time) error
}

// KeyMap is the panel's keys.
type KeyMap struct {
	Up, Down, Cancel, Terminate key.Binding
}

// NewKeyMap returns the panel's keys; c and k are disabled, with why in
// their help, when disabled is not "".
func NewKeyMap(disabled string) KeyMap {
	km := KeyMap{
		Up:        key.NewBinding(key.WithKeys("up"), key.WithHelp("↑", "previous session")),
		Down:      key.NewBinding(key.WithKeys("down"), key.WithHelp("↓", "next session")),
		Cancel:    key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "cancel the session's query")),
		Terminate: key.NewBinding(key.WithKeys("k"), key.WithHelp("k", "terminate the session")),
	}
	if disabled != "" {
		km.Cancel.SetHelp("c", "cancel (disabled: "+disabled+")")
		km.Terminate.SetHelp("k", "terminate (disabled: "+disabled+")")
		km.Cancel.SetEnabled(false)
		km.Terminate.SetEnabled(false)
	}
	return km
}

// ShortHelp is the footer's keys.
func (k KeyMap) ShortHelp() []key.Binding { return []key.Binding{k.Cancel, k.Terminate, k.Down} }

// FullHelp is the ? overlay's keys.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Up, k.Down}, {k.Cancel, k.Terminate}}
}

// signalKind is what a confirmation will do.
type signalKind int

const (
	doCancel signalKind = iota
	doTerminate
)

func (s signalKind) String() string {
	if s == doTerminate {
		return "terminate"
	}
	return "cancel"
}

// confirm is an open typed confirmation: the user types the pid.
type confirm struct {
	kind  signalKind
	pid   int
	start time.Time
	query string
	input textinput.Model
}

// doneMsg is the answer of a signal.
type doneMsg struct {
	kind signalKind
	pid  int
	err  error
}

// Model is the Activity panel.
type Model struct {
	st       theme.Styles
	keys     KeyMap
	sig      Signaller
	disabled string // why c and k are off; "" when they work
	data     source.Activity
	loaded   bool
	rows     []row
	cursor   int
	top      int
	w, h     int
	confirm  *confirm
	status   string
}

// row is one line of the tree: a session at a depth.
type row struct {
	s     source.Session
	depth int
}

// New returns an empty panel. sig does the signals; disabled says why they
// are off for the whole session ("--read-only", "replay"), "" when they
// are on (a replica turns them off by its data).
func New(st theme.Styles, sig Signaller, disabled string) Model {
	m := Model{st: st, sig: sig, disabled: disabled, keys: NewKeyMap(disabled)}
	m.SetSize(80, 20)
	return m
}

// Keys returns the panel's keys, for the footer and the help.
func (m *Model) Keys() KeyMap { return m.keys }

// Confirming reports whether a confirmation has the keyboard.
func (m *Model) Confirming() bool { return m.confirm != nil }

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
	reason := m.disabled
	if reason == "" && !a.CanSignal {
		reason = "not on this server (a replica, or read-only)"
	}
	m.keys = NewKeyMap(reason)
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

// Update handles the panel's keys and the answers of its signals.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case doneMsg:
		if msg.err != nil {
			m.status = fmt.Sprintf("%s pid %d failed: %v", msg.kind, msg.pid, msg.err)
		} else {
			m.status = fmt.Sprintf("%s sent to pid %d", msg.kind, msg.pid)
		}
		return nil
	case tea.KeyMsg:
		if m.confirm != nil {
			return m.updateConfirm(msg)
		}
		switch {
		case key.Matches(msg, m.keys.Up):
			m.cursor = max(m.cursor-1, 0)
		case key.Matches(msg, m.keys.Down):
			m.cursor = min(m.cursor+1, max(len(m.rows)-1, 0))
		case msg.String() == "c" || msg.String() == "k":
			m.ask(msg.String())
		}
	}
	return nil
}

// ask opens the confirmation for the selected session, or says why not.
func (m *Model) ask(k string) {
	kind, b := doCancel, m.keys.Cancel
	if k == "k" {
		kind, b = doTerminate, m.keys.Terminate
	}
	if !b.Enabled() {
		m.status = b.Help().Desc
		return
	}
	if m.cursor >= len(m.rows) || m.rows[m.cursor].s.BackendStart.IsZero() {
		m.status = "no session selected"
		return
	}
	s := m.rows[m.cursor].s
	in := textinput.New()
	in.Prompt = "> "
	in.CharLimit = 10
	in.Focus()
	m.confirm = &confirm{kind: kind, pid: s.PID, start: s.BackendStart, query: s.Query, input: in}
}

func (m *Model) updateConfirm(msg tea.KeyMsg) tea.Cmd {
	c := m.confirm
	switch msg.Type {
	case tea.KeyEsc:
		m.confirm, m.status = nil, c.kind.String()+" not sent"
		return nil
	case tea.KeyEnter:
		if strings.TrimSpace(c.input.Value()) != strconv.Itoa(c.pid) {
			m.confirm, m.status = nil, fmt.Sprintf("%s not sent: the pid typed is not %d", c.kind, c.pid)
			return nil
		}
		m.confirm = nil
		m.status = fmt.Sprintf("sending %s to pid %d…", c.kind, c.pid)
		sig, kind, pid, start := m.sig, c.kind, c.pid, c.start
		return func() tea.Msg {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			var err error
			if kind == doTerminate {
				err = sig.Terminate(ctx, pid, start)
			} else {
				err = sig.Cancel(ctx, pid, start)
			}
			return doneMsg{kind: kind, pid: pid, err: err}
		}
	}
	var cmd tea.Cmd
	c.input, cmd = c.input.Update(msg)
	return cmd
}

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

// bottomLines are the progress of maintenance, then the confirmation or
// the status.
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
	switch {
	case m.confirm != nil:
		c := m.confirm
		out = append(out, m.st.Warn.Render(fmt.Sprintf("%s pid %d running %q? type %d and enter (esc: no)", c.kind, c.pid, c.query, c.pid)),
			c.input.View())
	case m.status != "":
		out = append(out, m.status)
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
