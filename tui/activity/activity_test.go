package activity

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"

	"hmperf/tui/pane"
	"hmperf/tui/source"
	"hmperf/tui/theme"
)

func TestMain(m *testing.M) {
	lipgloss.SetColorProfile(termenv.Ascii)
	lipgloss.SetHasDarkBackground(true)
	m.Run()
}

var start = time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC)

func f(v float64) *float64 { return &v }

// scene is a holder with a waiter behind it and a third session behind
// both, an idle-in-transaction session holding the oldest xmin, an
// unrelated active one, and a CREATE INDEX in progress.
func scene(canSignal bool) source.Activity {
	return source.Activity{
		At: start.Add(time.Hour), CanSignal: canSignal,
		Sessions: []source.Session{
			{PID: 101, BackendStart: start, State: "idle in transaction", IdleInTransaction: true, XactAge: f(420), QueryAge: f(400),
				ApplicationName: "report-job", Query: "SELECT count(*) FROM users"},
			{PID: 102, BackendStart: start, State: "idle in transaction", XactAge: f(35), QueryAge: f(34), Root: true, HoldsUp: 2,
				IdleInTransaction: true, ApplicationName: "psql", Query: "LOCK TABLE symptoms IN ACCESS EXCLUSIVE MODE"},
			{PID: 103, BackendStart: start, State: "active", WaitEventType: "Lock", WaitEvent: "relation", LockWait: f(31), XactAge: f(31),
				QueryAge: f(31), BlockedBy: []int{102}, HoldsUp: 1, ApplicationName: "ingest", Query: "LOCK TABLE symptoms IN SHARE MODE"},
			{PID: 104, BackendStart: start, State: "active", WaitEventType: "Lock", WaitEvent: "relation", LockWait: f(12), XactAge: f(12),
				QueryAge: f(12), BlockedBy: []int{102, 103}, ApplicationName: "ingest", Query: "INSERT INTO symptoms VALUES ($1, $2)"},
			{PID: 105, BackendStart: start, State: "active", XactAge: f(2), QueryAge: f(2), ApplicationName: "hmperf dashboard",
				Query: "CREATE INDEX CONCURRENTLY s_idx ON symptoms (user_id)"},
		},
		Roots:      []source.LockRoot{{PID: 102, HoldsUp: 2}},
		XminHolder: &source.XminHolder{Kind: "session", ID: "101", State: "idle in transaction", XidAge: 1234, AgeSeconds: f(420)},
		Progress: []source.Progress{{PID: 105, Command: "CREATE INDEX CONCURRENTLY", Relation: "symptoms", Phase: "building index: scanning table",
			Unit: "blocks", Done: 250, Total: 1000, Percent: f(25)}},
	}
}

func TestLayoutPutsAWaiterUnderEveryBlocker(t *testing.T) {
	var got []string
	for _, r := range Layout(scene(true)) {
		got = append(got, fmt.Sprintf("%s%d", strings.Repeat(">", r.depth), r.s.PID))
	}
	want := "102 >103 >>104 >104 101 105"
	if strings.Join(got, " ") != want {
		t.Errorf("layout %q, want %q", strings.Join(got, " "), want)
	}
}

func TestGoldenViews(t *testing.T) {
	for _, w := range []int{80, 120} {
		t.Run(fmt.Sprint(w), func(t *testing.T) {
			m := New(theme.NewStyles(theme.Default()))
			m.SetSize(w, 14)
			m.SetData(scene(true))
			golden.RequireEqual(t, []byte(m.View()))
		})
	}
}

func keys(s string) tea.KeyMsg { return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)} }

func TestSignalRequests(t *testing.T) {
	tests := []struct {
		name      string
		env       pane.Env
		canSignal bool
		keys      []tea.KeyMsg
		want      pane.Request
	}{
		{"terminate the root", pane.Env{Active: true}, true, []tea.KeyMsg{keys("k")},
			pane.Request{Job: pane.JobTerminateSession, Arg: pane.SessionArg(102, start), Confirm: true, Want: "102",
				Prompt: `terminate pid 102 (psql, running "LOCK TABLE symptoms IN ACCESS EXCLUSIVE MODE")? Type 102 to confirm.`}},
		{"cancel the waiter below it", pane.Env{Active: true}, true, []tea.KeyMsg{{Type: tea.KeyDown}, keys("c")},
			pane.Request{Job: pane.JobCancelSession, Arg: pane.SessionArg(103, start), Confirm: true, Want: "103",
				Prompt: `cancel the query of pid 103 (ingest, running "LOCK TABLE symptoms IN SHARE MODE")? Type 103 to confirm.`}},
		{"read-only or replay", pane.Env{Active: true, ReadOnly: true}, true, []tea.KeyMsg{keys("k")},
			pane.Request{Status: "cancel and terminate are disabled: nothing is written in this session (--read-only or replay)"}},
		{"a replica", pane.Env{Active: true}, false, []tea.KeyMsg{keys("c")},
			pane.Request{Status: "cancel and terminate are disabled on this server (a replica, or nothing read yet)"}},
	}
	for _, tc := range tests {
		m := New(theme.NewStyles(theme.Default()))
		m.SetData(scene(tc.canSignal))
		m.Configure(tc.env)
		var got pane.Request
		for _, k := range tc.keys {
			r, ok := m.HandleKey(k)
			if !ok {
				t.Fatalf("%s: %q not handled", tc.name, k)
			}
			got = r
		}
		if got != tc.want {
			t.Errorf("%s:\n%+v\nwant\n%+v", tc.name, got, tc.want)
		}
	}
	arg := pane.SessionArg(102, start)
	if pid, st, err := pane.ParseSessionArg(arg); pid != 102 || !st.Equal(start) || err != nil {
		t.Errorf("ParseSessionArg(%q) = %d, %v, %v", arg, pid, st, err)
	}
}

// harness makes the panel a tea.Model for teatest.
type harness struct{ m Model }

func (h harness) Init() tea.Cmd { return nil }
func (h harness) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if k, ok := msg.(tea.KeyMsg); ok {
		if k.String() == "ctrl+c" {
			return h, tea.Quit
		}
		h.m.HandleKey(k)
	}
	return h, nil
}
func (h harness) View() string { return h.m.View() }

// TestSelectionOnScreen drives the panel in a program: ↓ moves the
// selection down the tree.
func TestSelectionOnScreen(t *testing.T) {
	m := New(theme.NewStyles(theme.Default()))
	m.SetSize(120, 14)
	m.SetData(scene(true))
	m.Configure(pane.Env{Active: true})
	tm := teatest.NewTestModel(t, harness{m}, teatest.WithInitialTermSize(120, 14))
	tm.Send(tea.KeyMsg{Type: tea.KeyDown})
	tm.Send(tea.KeyMsg{Type: tea.KeyDown})
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		return bytes.Contains(b, []byte("▶   └ 104"))
	}, teatest.WithDuration(5*time.Second))
	tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
	final := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(harness)
	golden.RequireEqual(t, []byte(final.View()))
}
