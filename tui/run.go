package tui

import (
	"context"
	"errors"
	"fmt"

	tea "github.com/charmbracelet/bubbletea"

	"hmperf/tui/source"
)

// renderFPS caps how often the screen is redrawn. The renderer wakes up at
// this rate even when nothing changed (each wake-up costs the Go scheduler
// several thread switches), and at bubbletea's default of 60 those wake-ups
// were most of an idle dashboard's CPU; 10 frames a second still answers a
// key within 100 ms.
const renderFPS = 10

// Run shows the dashboard over src in the terminal's alternate screen until
// the user quits or ctx is done; both are a normal end and return nil.
// Queries and jobs run under ctx. It returns once every job and poll it
// started has ended, or quitWait after the end when one has not (it says so).
func Run(ctx context.Context, src source.Source, opts Options) error {
	m := New(src, opts)
	m.ctx = ctx
	defer m.procs.restore()
	_, err := tea.NewProgram(m, tea.WithAltScreen(), tea.WithContext(ctx), tea.WithFPS(renderFPS)).Run()
	if !m.track.close(quitWait) && err == nil {
		err = fmt.Errorf("a dashboard job did not end within %s of quitting", quitWait)
	}
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil
	}
	return err
}
