package benchmarks

import (
	"context"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"hmperf/tui/pane"
	"hmperf/tui/source"
)

// Title names the tab.
func (m *Model) Title() string { return "Benchmarks" }

// ShortTitle names the tab on a narrow tab line.
func (m *Model) ShortTitle() string { return "Bench" }

// Poll reads the benchmark history.
func (m *Model) Poll(ctx context.Context, src source.Poller) (any, error) { return src.Benchmarks(ctx) }

// Apply shows a poll's answer.
func (m *Model) Apply(data any, _ time.Time) {
	if d, ok := data.(source.BenchHistory); ok {
		m.SetData(d)
	}
}

// Header: the history says nothing about alerts.
func (m *Model) Header() pane.Header { return pane.HeaderNone }

// JobRunning shows a benchmark starting or ending.
func (m *Model) JobRunning(j pane.Job, running bool) {
	if j == pane.JobBench {
		m.SetRunning(running)
	}
}

// BenchProgress shows how far the run in flight is.
func (m *Model) BenchProgress(p source.BenchProgress) { m.SetProgress(p) }

// keyMap is the panel's bindings.
type keyMap struct {
	bench, cancel, prevTable, nextTable key.Binding
}

func newKeyMap() keyMap {
	return keyMap{
		bench:     pane.Binding("b", "run benchmark", "b"),
		cancel:    pane.Binding("esc", "cancel benchmark", "esc"),
		prevTable: pane.Binding("←", "previous table", "left", "h"),
		nextTable: pane.Binding("→", "next table", "right", "l"),
	}
}

// Keys returns the panel's bindings; ← is in help only, → stands for both
// in the footer.
func (m *Model) Keys() pane.Keys {
	k := &m.keys
	return pane.Keys{
		Short: []key.Binding{k.bench, k.cancel, k.nextTable},
		Full:  []key.Binding{k.bench, k.cancel, k.prevTable, k.nextTable},
		Write: []key.Binding{k.bench},
	}
}

// Configure enables b while no run is in flight and esc while one is.
func (m *Model) Configure(env pane.Env) {
	k := &m.keys
	k.bench.SetEnabled(env.Active && !env.ReadOnly && !m.running)
	k.cancel.SetEnabled(env.Active && m.running)
	k.prevTable.SetEnabled(env.Active)
	k.nextTable.SetEnabled(env.Active)
}

// benchWhere tells the person confirming a benchmark where its rows go
// (queries/bench makes the copies; the tui does not import it).
const benchWhere = "Rows go to scratch copies in schema hmperf_scratch_N, built from the live catalogue and " +
	"dropped at the end; the service's tables, sequences and users are not touched."

// HandleKey selects the table, and asks to run or cancel a benchmark.
func (m *Model) HandleKey(msg tea.KeyMsg) (pane.Request, bool) {
	k := &m.keys
	switch {
	case key.Matches(msg, k.cancel):
		return pane.Request{Job: pane.JobCancelBench}, true
	case key.Matches(msg, k.prevTable):
		m.Select(-1)
	case key.Matches(msg, k.nextTable):
		m.Select(+1)
	case key.Matches(msg, k.bench):
		t := m.Selected()
		return pane.Request{Job: pane.JobBench, Arg: t, Confirm: true,
			Prompt: "Run the benchmark for " + t + "? " + benchWhere}, true
	default:
		return pane.Request{}, false
	}
	return pane.Request{}, true
}
