package tui

import (
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/golden"

	"hmperf/tui/recording"
	"hmperf/tui/source"
)

// TestTerminateNeedsThePidTyped: k on the Activity panel asks, naming the
// pid and its query; a wrong pid sends nothing, the right one terminates
// that session through the source.
func TestTerminateNeedsThePidTyped(t *testing.T) {
	f := newFake()
	m := loadedModel(t, f, Activity, Options{})
	m = press(t, m, "k")
	if m.confirm == nil || m.confirm.want != "201" || !strings.Contains(m.confirm.prompt, `"LOCK TABLE symptoms"`) {
		t.Fatalf("k asked %+v, want the pid typed and the query named", m.confirm)
	}
	m = typeText(t, m, "202")
	m, cmd := update(t, m, keyMsg("enter"))
	if cmd != nil || m.confirm == nil || m.confirm.err == "" {
		t.Fatal("a wrong pid was accepted")
	}
	m = typeText(t, press(t, m, "esc", "k"), "201")
	m, cmd = update(t, m, keyMsg("enter"))
	if cmd == nil {
		t.Fatal("typing the pid sent nothing")
	}
	m, _ = update(t, m, cmd())
	if f.calls["terminate 201"] != 1 || f.calls["terminate 202"] != 0 || m.status != "terminate of pid 201 done" {
		t.Errorf("calls %v, status %q", f.calls, m.status)
	}
}

func TestSignalsOffReadOnly(t *testing.T) {
	f := newFake()
	f.readOnly = true
	m := loadedModel(t, f, Activity, Options{})
	m = press(t, m, "c")
	if m.confirm != nil || !strings.Contains(m.status, "disabled") {
		t.Errorf("read-only: confirm %+v, status %q", m.confirm, m.status)
	}
}

// replayRecords are four polls 2 s apart, the third with a lock wait.
func replayRecords() []recording.Record {
	t0 := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
	var out []recording.Record
	for i := range 4 {
		r := recording.Record{At: t0.Add(time.Duration(2*i) * time.Second), Server: "db",
			Alerts:   []source.Alert{},
			Activity: &source.Activity{At: t0, Sessions: []source.Session{{PID: 300 + i, State: "active", Query: "SELECT 1"}}}}
		out = append(out, r)
	}
	return out
}

// TestReplay drives a recording: the header says REPLAY with the recorded
// time, → steps to the next record and the panel shows its data, g jumps,
// and a write key says replay disables it.
func TestReplay(t *testing.T) {
	p, err := recording.NewPlayer(recording.Header{}, replayRecords())
	if err != nil {
		t.Fatal(err)
	}
	m := New(p, Options{Replay: p, Clock: p.Now, Panel: Activity})
	m, _ = update(t, m, tea.WindowSizeMsg{Width: 100, Height: 12})
	m, _ = update(t, m, m.fetch(Activity)())
	if v := m.View(); !strings.Contains(v, "REPLAY 2026-03-01 02:00:00 UTC") || !strings.Contains(v, "300") {
		t.Fatalf("replay at start:\n%s", v)
	}
	m, cmd := update(t, m, tea.KeyMsg{Type: tea.KeyRight})
	m, _ = update(t, m, cmd())
	if v := m.View(); !strings.Contains(v, "REPLAY 2026-03-01 02:00:02 UTC  PAUSED x1  record 2/4") || !strings.Contains(v, "301") {
		t.Fatalf("after →:\n%s", v)
	}
	m = typeText(t, press(t, m, "g"), "02:00:06")
	m, cmd = update(t, m, keyMsg("enter"))
	m, _ = update(t, m, cmd())
	if v := m.View(); !strings.Contains(v, "02:00:06") || !strings.Contains(v, "303") {
		t.Fatalf("after g 02:00:06:\n%s", v)
	}
	golden.RequireEqual(t, []byte(m.View()))
	// Help says what the keys do in a replay, not what they do live.
	m, _ = update(t, m, tea.WindowSizeMsg{Width: 160, Height: 30})
	help := press(t, m, "?").View()
	for _, want := range []string{"pause the replay", "step one record", "replay faster", "replay slower", "jump to a time"} {
		if !strings.Contains(help, want) {
			t.Errorf("replay help lacks %q:\n%s", want, help)
		}
	}
	for _, live := range []string{"pause polling", "poll faster", "poll slower"} {
		if strings.Contains(help, live) {
			t.Errorf("replay help says %q, the live meaning:\n%s", live, help)
		}
	}
	m = press(t, m, "6", "i")
	if !strings.Contains(m.status, "replay") && !strings.Contains(m.View(), "read-only") {
		t.Errorf("i in replay: status %q", m.status)
	}
}
