package activity

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"

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
			m := New(theme.NewStyles(theme.Default()), nil, "")
			m.SetSize(w, 14)
			m.SetData(scene(true))
			golden.RequireEqual(t, []byte(m.View()))
		})
	}
}

// fakeSig records the signals sent.
type fakeSig struct {
	mu   sync.Mutex
	sent []string
}

func (s *fakeSig) Cancel(_ context.Context, pid int, st time.Time) error {
	return s.note("cancel", pid, st)
}

func (s *fakeSig) Terminate(_ context.Context, pid int, st time.Time) error {
	return s.note("terminate", pid, st)
}

func (s *fakeSig) note(kind string, pid int, st time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, fmt.Sprintf("%s %d %s", kind, pid, st.Format(time.RFC3339)))
	if pid == 666 {
		return errors.New("boom")
	}
	return nil
}

func keys(s string) tea.KeyMsg { return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)} }

// run feeds msgs to m, running every command it returns and feeding its
// answer back.
func run(m *Model, msgs ...tea.Msg) {
	for _, msg := range msgs {
		if cmd := m.Update(msg); cmd != nil {
			if out := cmd(); out != nil {
				m.Update(out)
			}
		}
	}
}

func TestTypedConfirmation(t *testing.T) {
	tests := []struct {
		name      string
		disabled  string
		canSignal bool
		msgs      []tea.Msg
		sent      []string
		status    string
	}{
		{"terminate the root after typing its pid", "", true,
			[]tea.Msg{keys("k"), keys("102"), tea.KeyMsg{Type: tea.KeyEnter}},
			[]string{"terminate 102 2026-03-01T11:00:00Z"}, "terminate sent to pid 102"},
		{"cancel the waiter below it", "", true,
			[]tea.Msg{tea.KeyMsg{Type: tea.KeyDown}, keys("c"), keys("103"), tea.KeyMsg{Type: tea.KeyEnter}},
			[]string{"cancel 103 2026-03-01T11:00:00Z"}, "cancel sent to pid 103"},
		{"a wrong pid sends nothing", "", true,
			[]tea.Msg{keys("k"), keys("103"), tea.KeyMsg{Type: tea.KeyEnter}},
			nil, "terminate not sent: the pid typed is not 102"},
		{"esc sends nothing", "", true,
			[]tea.Msg{keys("c"), tea.KeyMsg{Type: tea.KeyEsc}}, nil, "cancel not sent"},
		{"read-only", "--read-only", true, []tea.Msg{keys("k")}, nil, "terminate (disabled: --read-only)"},
		{"replay", "replay", true, []tea.Msg{keys("c")}, nil, "cancel (disabled: replay)"},
		{"replica", "", false, []tea.Msg{keys("k")}, nil, "terminate (disabled: not on this server (a replica, or read-only))"},
	}
	for _, tc := range tests {
		sig := &fakeSig{}
		m := New(theme.NewStyles(theme.Default()), sig, tc.disabled)
		m.SetSize(120, 20)
		m.SetData(scene(tc.canSignal))
		run(&m, tc.msgs...)
		if strings.Join(sig.sent, "|") != strings.Join(tc.sent, "|") || m.status != tc.status {
			t.Errorf("%s: sent %q, status %q; want %q, %q", tc.name, sig.sent, m.status, tc.sent, tc.status)
		}
	}
}

// harness makes the panel a tea.Model for teatest.
type harness struct{ m Model }

func (h harness) Init() tea.Cmd { return nil }
func (h harness) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if k, ok := msg.(tea.KeyMsg); ok && k.String() == "ctrl+c" {
		return h, tea.Quit
	}
	cmd := h.m.Update(msg)
	return h, cmd
}
func (h harness) View() string { return h.m.View() }

// TestConfirmationOnScreen drives the panel in a program: the typed
// confirmation names the pid and its query.
func TestConfirmationOnScreen(t *testing.T) {
	m := New(theme.NewStyles(theme.Default()), &fakeSig{}, "")
	m.SetSize(120, 14)
	m.SetData(scene(true))
	tm := teatest.NewTestModel(t, harness{m}, teatest.WithInitialTermSize(120, 14))
	tm.Send(keys("k"))
	tm.Send(keys("10"))
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		return bytes.Contains(b, []byte(`terminate pid 102 running "LOCK TABLE symptoms IN ACCESS EXCLUSIVE MODE"? type 102`))
	}, teatest.WithDuration(5*time.Second))
	tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
	final := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(harness)
	golden.RequireEqual(t, []byte(final.View()))
}
