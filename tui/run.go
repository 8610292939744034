package tui

import (
	"context"
	"errors"
	"fmt"

	tea "github.com/charmbracelet/bubbletea"

	"hmperf/tui/source"
)

// renderFPS caps how often the screen is redrawn. The renderer wakes up at
// this rate even when nothing changed, and on a VM each wake-up costs a
// fifth of a millisecond of CPU: at 10 frames a second that was half of an
// idle dashboard's CPU, more than its polls. 6 frames a second takes 0.06%
// of a core less (measured side by side with 10, docs/oncall.md) and still
// shows a key within 170 ms, 85 on average.
const renderFPS = 6

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
