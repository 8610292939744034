package tui

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"
	"go.uber.org/goleak"
)

// TestMain fixes the colour profile and background so that golden files are
// the same in a terminal and in CI, and fails the run when a goroutine the
// dashboard started outlives the tests.
func TestMain(m *testing.M) {
	lipgloss.SetColorProfile(termenv.Ascii)
	lipgloss.SetHasDarkBackground(true)
	// teatest leaves one goroutine per test model waiting for a SIGINT that
	// never comes; everything the dashboard itself starts must have ended.
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/charmbracelet/x/exp/teatest.NewTestModel.func2"))
}

// loadedMarkers is text each panel, by title, shows only once its data is
// in. A panel added to the list needs its line here.
var loadedMarkers = map[string]string{
	"Overview":    "claimed against measured",
	"Constraints": "Insert speed",
	"Alerts":      "Firing alerts",
	"Indexes":     "Running builds",
	"Benchmarks":  "Run history",
	"Ingest":      "Recent batches",
	"Migrations":  "activity_metrics_constraint_monitoring",
	"Servers":     "1 up, 0 stale",
	"Activity":    "root blockers",
}

// loadedMarker is the loaded marker of panel p.
func loadedMarker(p Panel) string {
	m, ok := loadedMarkers[p.String()]
	if !ok {
		panic("golden_test.go: no loaded marker for panel " + p.String())
	}
	return m
}

// loaded is what shows panel p loaded: its marker, and the header's alert
// badge, which another panel's background poll fills in.
func loaded(p Panel) []string { return []string{loadedMarker(p), "▲ 1 CRITICAL"} }

// bareMarkers is what shows panel p on a database without hmperf's schema:
// the header's UNKNOWN, and the panel's missing object or its own data.
func bareMarkers(p Panel) []string {
	switch p {
	case Overview:
		return []string{"alerts UNKNOWN", "check_constraint_performance_alerts"}
	case Migrations, Servers, Activity:
		// They need none of hmperf's objects.
		return []string{loadedMarker(p), "alerts UNKNOWN"}
	}
	return []string{"cannot be shown", "migrate adopt", "alerts UNKNOWN"}
}

// goldenState drives a test program into one state: setup prepares the
// fake before the program starts, drive sends keys once it runs, and want
// is the text that shows the state has been reached.
type goldenState struct {
	name  string
	setup func(f *fakeSource)
	drive func(t *testing.T, tm *teatest.TestModel, f *fakeSource, p Panel)
	want  func(p Panel) []string
}

func goldenStates() []goldenState {
	key := func(s string) tea.KeyMsg { return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)} }
	return []goldenState{
		{name: "loading", setup: func(f *fakeSource) { f.block = make(chan struct{}) },
			want: func(Panel) []string { return []string{"Loading", "alerts: ?"} }},
		{name: "loaded", want: loaded},
		{name: "error", setup: func(f *fakeSource) { f.failing = true },
			want: func(Panel) []string { return []string{"ERROR", "alerts UNKNOWN: connection refused"} }},
		{name: "stale", drive: func(t *testing.T, tm *teatest.TestModel, f *fakeSource, p Panel) {
			waitFor(t, tm, loaded(p)...)
			f.setFailing(true)
			tm.Send(key("r"))
		}, want: func(Panel) []string { return []string{"STALE since"} }},
		{name: "bare", setup: func(f *fakeSource) { f.bare = true }, want: bareMarkers},
		{name: "help", drive: func(t *testing.T, tm *teatest.TestModel, f *fakeSource, p Panel) {
			waitFor(t, tm, loaded(p)...)
			tm.Send(key("?"))
		}, want: func(Panel) []string { return []string{"poll faster"} }},
	}
}

// waitFor waits until the program has printed every one of want.
func waitFor(t *testing.T, tm *teatest.TestModel, want ...string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		for _, s := range want {
			if !bytes.Contains(b, []byte(s)) {
				return false
			}
		}
		return true
	},
		teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(5*time.Millisecond))
}

// TestGolden renders every panel in every state at 80×24 and 160×48.
// WaitFor consumes the output it reads, so the golden is the final model's
// View, not the program's output.
func TestGolden(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {160, 48}} {
		for p := range panelCount {
			for _, st := range goldenStates() {
				name := fmt.Sprintf("%s_%dx%d_%s", p, size[0], size[1], st.name)
				t.Run(name, func(t *testing.T) { runGolden(t, p, size[0], size[1], st) })
			}
		}
	}
}

func runGolden(t *testing.T, p Panel, w, h int, st goldenState) {
	f := newFake()
	if st.setup != nil {
		st.setup(f)
	}
	unblock := func() {}
	if f.block != nil {
		unblock = sync.OnceFunc(func() { close(f.block) })
		t.Cleanup(unblock)
	}
	m := New(f, Options{Clock: fixedClock, Panel: p, Interval: MaxInterval})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(w, h))
	if st.drive != nil {
		st.drive(t, tm, f, p)
	}
	waitFor(t, tm, st.want(p)...)
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	final := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second))
	// tm.Quit ends the program as tui.Run's caller would not: close the
	// dashboard's tracker as Run does, so its pending tick ends too.
	unblock() // the polls of a "loading" state end now, not at their timeout
	if !m.track.close(quitWait) {
		t.Error("a poll or tick of the dashboard did not end after quitting")
	}
	golden.RequireEqual(t, []byte(final.View()))
}
