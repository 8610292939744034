package tui

import (
	"context"
	"reflect"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"hmperf/tui/source"
)

// floodingSource runs a benchmark that reports more progress than the
// event buffer holds before it waits for cancellation, so its goroutine is
// blocked on a send when the dashboard quits.
type floodingSource struct {
	*fakeSource
	ended chan struct{}
}

func (f floodingSource) RunBenchmark(ctx context.Context, table string, progress func(source.BenchProgress)) error {
	defer close(f.ended)
	for i := range 4 * benchEventBuffer {
		progress(source.BenchProgress{Table: table, Variant: source.Optimized, Rep: 1, Reps: 3, Step: i, Steps: 100})
	}
	<-ctx.Done()
	return ctx.Err()
}

// runSequence runs the commands of a tea.Sequence in order, as bubbletea
// does, and returns the message of the last one.
func runSequence(t *testing.T, cmd tea.Cmd) tea.Msg {
	t.Helper()
	msg := cmd()
	v := reflect.ValueOf(msg)
	if v.Kind() != reflect.Slice {
		return msg
	}
	var last tea.Msg
	for i := range v.Len() {
		if c, ok := v.Index(i).Interface().(tea.Cmd); ok && c != nil {
			last = c()
		}
	}
	return last
}

// TestQuitWaitsForTheBenchmark quits while a benchmark goroutine is blocked
// on its event channel: the quit cancels it, waits until it has ended, and
// only then quits.
func TestQuitWaitsForTheBenchmark(t *testing.T) {
	f := floodingSource{fakeSource: newFake(), ended: make(chan struct{})}
	m := New(f, Options{Clock: fixedClock, Panel: Benchmarks})
	m, _ = update(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})
	m = press(t, m, "right", "b")
	m, _ = update(t, m, keyMsg("y")) // its events are never read
	if m.jobs.bench == nil {
		t.Fatal("the benchmark did not start")
	}
	m, _ = update(t, m, keyMsg("q"))
	if m.confirm == nil || !m.confirm.quit {
		t.Fatal("q during a benchmark did not ask")
	}
	_, cmd := update(t, m, keyMsg("y"))
	done := make(chan tea.Msg, 1)
	go func() { done <- runSequence(t, cmd) }()
	select {
	case msg := <-done:
		if _, ok := msg.(tea.QuitMsg); !ok {
			t.Fatalf("the quit ended with %T, want tea.QuitMsg", msg)
		}
	case <-time.After(quitWait + 5*time.Second):
		t.Fatal("quitting did not end")
	}
	select {
	case <-f.ended:
	default:
		t.Fatal("quit returned before the benchmark ended")
	}
	if !m.track.close(0) {
		t.Error("a job goroutine is still counted after the quit")
	}
}
