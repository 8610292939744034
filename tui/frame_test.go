package tui

import (
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

// TestKeptFrameIsCurrent: after every message of a refresh cycle (the tick,
// the data it asks for, a key, a failed poll, a resize), the frame View
// gives is the one drawn from scratch: keeping it across ticks never shows
// a stale screen.
func TestKeptFrameIsCurrent(t *testing.T) {
	src := newFake()
	m := New(src, Options{Clock: fixedClock})
	step := func(msg tea.Msg) tea.Cmd {
		t.Helper()
		next, cmd := m.Update(msg)
		m = next.(Model)
		got := m.View()
		fresh := m
		fresh.frame = &frame{}
		if want := fresh.View(); got != want {
			t.Fatalf("after %T the kept frame differs from one drawn afresh:\n%s\n---\n%s", msg, got, want)
		}
		return cmd
	}
	// tick delivers a tick, then the answer to the poll it sent (its
	// batch's first command; the next tick's timer is not waited for).
	tick := func() {
		t.Helper()
		batch, ok := step(tickMsg{gen: m.ticker.gen})().(tea.BatchMsg)
		if !ok || len(batch) == 0 || batch[0] == nil {
			t.Fatal("the tick sent no poll")
		}
		step(batch[0]())
	}
	step(tea.WindowSizeMsg{Width: 120, Height: 40})
	for range 3 {
		tick()
	}
	step(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("2")})
	tick()
	src.setFailing(true)
	tick()
	tick()
	step(tea.WindowSizeMsg{Width: 90, Height: 30})
}
