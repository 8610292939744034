package activity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"hmperf/tui/datatable"
	"hmperf/tui/pane"
	"hmperf/tui/source"
)

// Title names the tab.
func (m *Model) Title() string { return "Activity" }

// ShortTitle names the tab on a narrow tab line.
func (m *Model) ShortTitle() string { return "Activ" }

// errNoActivity answers for a source that does not read sessions.
var errNoActivity = errors.New("this source does not read the server's sessions")

// Poll reads the sessions.
func (m *Model) Poll(ctx context.Context, src source.Poller) (any, error) {
	ap, ok := src.(source.ActivityPoller)
	if !ok {
		return nil, errNoActivity
	}
	return ap.Activity(ctx)
}

// Apply shows a poll's answer.
func (m *Model) Apply(data any, _ time.Time) {
	if d, ok := data.(source.Activity); ok {
		m.SetData(d)
	}
}

// Table: the tree is not a table to filter or export.
func (m *Model) Table() *datatable.Model { return nil }

// Header: the sessions say nothing the header counts.
func (m *Model) Header() pane.Header { return pane.HeaderNone }

// Keys returns the panel's bindings; c and k are writes.
func (m *Model) Keys() pane.Keys {
	k := m.keys
	return pane.Keys{Short: []key.Binding{k.Cancel, k.Terminate, k.Down}, Full: []key.Binding{k.Up, k.Down, k.Cancel, k.Terminate},
		Write: []key.Binding{k.Cancel, k.Terminate}}
}

// Configure enables the keys of the visible panel; c and k only where the
// dashboard may write and the server is one whose sessions make sense to
// signal (not a replica).
func (m *Model) Configure(env pane.Env) {
	m.readOnly = env.ReadOnly
	m.keys.Up.SetEnabled(env.Active)
	m.keys.Down.SetEnabled(env.Active)
	write := env.Active && !env.ReadOnly && m.data.CanSignal
	m.keys.Cancel.SetEnabled(write)
	m.keys.Terminate.SetEnabled(write)
}

// HandleKey moves the selection, or asks for a typed confirmation of a
// signal naming the pid and its query; a disabled c or k says why.
func (m *Model) HandleKey(msg tea.KeyMsg) (pane.Request, bool) {
	switch {
	case key.Matches(msg, m.keys.Up):
		m.cursor = max(m.cursor-1, 0)
		return pane.Request{}, true
	case key.Matches(msg, m.keys.Down):
		m.cursor = min(m.cursor+1, max(len(m.rows)-1, 0))
		return pane.Request{}, true
	case key.Matches(msg, m.keys.Cancel):
		return m.ask(pane.JobCancelSession, "cancel the query of"), true
	case key.Matches(msg, m.keys.Terminate):
		return m.ask(pane.JobTerminateSession, "terminate"), true
	case msg.String() == "c" || msg.String() == "k":
		return pane.Request{Status: m.whyNot()}, true
	}
	return pane.Request{}, false
}

// whyNot says why c and k are off.
func (m *Model) whyNot() string {
	switch {
	case m.readOnly:
		return "cancel and terminate are disabled: nothing is written in this session (--read-only or replay)"
	case !m.data.CanSignal:
		return "cancel and terminate are disabled on this server (a replica, or nothing read yet)"
	}
	return "cancel and terminate are disabled"
}

func (m *Model) ask(job pane.Job, verb string) pane.Request {
	if m.cursor >= len(m.rows) || m.rows[m.cursor].s.BackendStart.IsZero() {
		return pane.Request{Status: "no session selected"}
	}
	s := m.rows[m.cursor].s
	return pane.Request{Job: job, Arg: pane.SessionArg(s.PID, s.BackendStart), Confirm: true, Want: fmt.Sprint(s.PID),
		Prompt: fmt.Sprintf("%s pid %d (%s, running %q)? Type %d to confirm.", verb, s.PID, s.ApplicationName, s.Query, s.PID)}
}
