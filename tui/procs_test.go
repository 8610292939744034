package tui

import (
	"errors"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

// fakeProcs stands for runtime.GOMAXPROCS.
type fakeProcs struct{ n, changes int }

func (f *fakeProcs) set(n int) int {
	prev := f.n
	if n > 0 {
		f.n = n
		f.changes++
	}
	return prev
}

// TestIdleDashboardRunsOnOneProc: with no job running the dashboard runs on
// one P; a job in progress gets what the process started with, and its end
// gives it up; quitting restores it.
func TestIdleDashboardRunsOnOneProc(t *testing.T) {
	update := func(m Model, msg tea.Msg) Model {
		next, _ := m.Update(msg)
		return next.(Model)
	}
	size := tea.WindowSizeMsg{Width: 120, Height: 40}
	for _, tt := range []struct {
		name    string
		ingest  bool
		then    tea.Msg // a message after the first, nil for none
		want    int
		changes int
	}{
		{"idle", false, nil, 1, 1},
		{"sample ingest running", true, nil, 4, 0},
		{"sample ingest failed to start", true, jobDoneMsg{job: "ingest start", err: errors.New("no table")}, 1, 1},
		{"idle, a job ends", false, jobDoneMsg{job: "migration"}, 1, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := &fakeProcs{n: 4}
			m := update(New(newFake(), Options{Clock: fixedClock, Procs: p.set, IngestRunning: tt.ingest}), size)
			if tt.then != nil {
				m = update(m, tt.then)
			}
			if p.n != tt.want || p.changes != tt.changes {
				t.Errorf("%d Ps after %d changes, want %d after %d", p.n, p.changes, tt.want, tt.changes)
			}
			m.procs.restore()
			if p.n != 4 {
				t.Errorf("restored to %d Ps, want 4", p.n)
			}
		})
	}
	t.Run("migration in progress", func(t *testing.T) {
		p := &fakeProcs{n: 4}
		m := update(New(newFake(), Options{Clock: fixedClock, Procs: p.set}), size)
		m.jobs.migration = "migrate up"
		m = update(m, size)
		if p.n != 4 {
			t.Errorf("%d Ps while migrating, want 4", p.n)
		}
		m = update(m, jobDoneMsg{job: "migration"})
		if p.n != 1 {
			t.Errorf("%d Ps after the migration, want 1", p.n)
		}
	})
}
