package tui

import (
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

// quitWait bounds how long quitting waits for the jobs and polls in flight
// to notice their cancelled context and end.
const quitWait = 10 * time.Second

// tracker counts the goroutines the dashboard starts for its jobs and polls
// (its own and the commands bubbletea runs for it), so that quitting can
// wait for them and leave nothing running. Once closed it admits no new
// goroutine: a command that starts after the quit does nothing.
type tracker struct {
	mu       sync.Mutex
	n        int
	closed   bool
	stopping chan struct{} // closed by close: senders give up on readers
	idle     chan struct{} // closed when closed and n is 0
}

func newTracker() *tracker {
	return &tracker{stopping: make(chan struct{}), idle: make(chan struct{})}
}

// enter counts a goroutine in; false after close, when it must not run.
func (t *tracker) enter() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.n++
	return true
}

// leave counts a goroutine out.
func (t *tracker) leave() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n--
	if t.closed && t.n == 0 {
		close(t.idle)
	}
}

// close admits no more goroutines and waits at most d for those counted
// in to leave. It reports whether they all did.
func (t *tracker) close(d time.Duration) bool {
	t.mu.Lock()
	if !t.closed {
		t.closed = true
		close(t.stopping)
		if t.n == 0 {
			close(t.idle)
		}
	}
	t.mu.Unlock()
	select {
	case <-t.idle:
		return true
	default:
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-t.idle:
		return true
	case <-timer.C:
		return false
	}
}

// cmd wraps a command so that it runs counted in, or not at all once the
// dashboard quits.
func (t *tracker) cmd(c tea.Cmd) tea.Cmd {
	return func() tea.Msg {
		if !t.enter() {
			return nil
		}
		defer t.leave()
		return c()
	}
}
