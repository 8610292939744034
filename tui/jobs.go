package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"hmperf/tui/pane"
	"hmperf/tui/source"
)

// jobs are the writes in progress. A cancel func is non-nil while its job
// runs.
type jobs struct {
	bench     context.CancelFunc
	benchRun  int // id of the current (or last) run; events of other runs are dropped
	indexes   context.CancelFunc
	migration string // what is being migrated, "" when idle
	ingest    bool
}

// running names the jobs in progress, for the quit confirmation.
func (j jobs) running() []string {
	var out []string
	if j.bench != nil {
		out = append(out, "a benchmark")
	}
	if j.ingest {
		out = append(out, "a sample ingest")
	}
	if j.indexes != nil {
		out = append(out, "an index build")
	}
	if j.migration != "" {
		out = append(out, "a migration")
	}
	return out
}

// busy reports whether any job is in progress.
func (j jobs) busy() bool {
	return j.bench != nil || j.ingest || j.indexes != nil || j.migration != ""
}

// benchMsg carries one event of a benchmark run.
type benchMsg struct {
	run      int
	events   <-chan benchMsg
	progress *source.BenchProgress
	done     bool
	err      error
}

// jobDoneMsg reports that a write finished.
type jobDoneMsg struct {
	job string // "ingest start", "ingest stop", "indexes", "migration"
	err error
}

// benchEventBuffer lets the benchmark run ahead of the screen by a few
// progress events before its callback waits.
const benchEventBuffer = 16

// startBench starts a benchmark of table and returns the command that
// delivers its first event. The run goroutine only sends on the channel; the
// model reads it through waitBench, one event per command.
func (m *Model) startBench(table string) tea.Cmd {
	if !m.track.enter() {
		return nil // quitting
	}
	ctx, cancel := context.WithCancel(m.ctx)
	m.jobs.bench = cancel
	m.jobs.benchRun++
	m.jobRunning(pane.JobBench, true)
	m.status = "benchmark of " + table + " started"
	run, src, track := m.jobs.benchRun, m.src, m.track
	events := make(chan benchMsg, benchEventBuffer)
	go func() {
		defer track.leave()
		err := src.RunBenchmark(ctx, table, func(p source.BenchProgress) {
			select {
			case events <- benchMsg{run: run, events: events, progress: &p}:
			case <-ctx.Done():
			case <-track.stopping:
			}
		})
		// After a quit nobody reads the events any more: do not wait.
		select {
		case events <- benchMsg{run: run, events: events, done: true, err: err}:
		case <-track.stopping:
		}
		close(events)
	}()
	return waitBench(events)
}

// waitBench returns the command that reads the next event of a run.
func waitBench(events <-chan benchMsg) tea.Cmd {
	return func() tea.Msg {
		ev, ok := <-events
		if !ok {
			return nil
		}
		return ev
	}
}

func (m *Model) handleBench(msg benchMsg) tea.Cmd {
	if msg.run != m.jobs.benchRun {
		return nil
	}
	if !msg.done {
		m.each(func(_ Panel, pn pane.Panel) {
			if w, ok := pn.(pane.ProgressWatcher); ok {
				w.BenchProgress(*msg.progress)
			}
		})
		return waitBench(msg.events)
	}
	if m.jobs.bench != nil {
		m.jobs.bench()
	}
	m.jobs.bench = nil
	m.jobRunning(pane.JobBench, false)
	switch {
	case errors.Is(msg.err, context.Canceled):
		m.status = "benchmark cancelled"
	case msg.err != nil:
		m.status = "benchmark failed: " + msg.err.Error()
	default:
		m.status = "benchmark finished"
	}
	return m.fetch(m.active)
}

// cancelBench cancels the run in flight; its last event reports the end.
func (m *Model) cancelBench() {
	if m.jobs.bench != nil {
		m.jobs.bench()
		m.status = "cancelling benchmark…"
	}
}

// jobRunning tells the panels that show job that it started or ended.
func (m *Model) jobRunning(job pane.Job, running bool) {
	m.each(func(_ Panel, pn pane.Panel) {
		if w, ok := pn.(pane.JobWatcher); ok {
			w.JobRunning(job, running)
		}
	})
}

// runJob runs one write in a command and reports its end.
func (m *Model) runJob(job string, f func(ctx context.Context) error) tea.Cmd {
	ctx := m.ctx
	return m.track.cmd(func() tea.Msg { return jobDoneMsg{job: job, err: f(ctx)} })
}

func (m *Model) startIndexes() tea.Cmd {
	ctx, cancel := context.WithCancel(m.ctx)
	m.jobs.indexes = cancel
	m.status = "building queued indexes…"
	src := m.src
	return m.track.cmd(func() tea.Msg { return jobDoneMsg{job: "indexes", err: src.ProcessIndexes(ctx)} })
}

func (m *Model) toggleIngest() tea.Cmd {
	src := m.src
	if m.jobs.ingest {
		m.jobs.ingest = false
		m.jobRunning(pane.JobIngest, false)
		m.status = "stopping sample ingest…"
		return m.runJob("ingest stop", func(context.Context) error { return src.StopIngest() })
	}
	m.jobs.ingest = true
	m.jobRunning(pane.JobIngest, true)
	m.status = "starting sample ingest…"
	return m.runJob("ingest start", src.StartIngest)
}

// ingestEnded stops showing a sample ingest as running once the source
// says it ended on an error, and says why: an ingest must not die
// silently. (A poll that began before a restart can carry the previous
// run's error; pressing i again then finds the new run and shows it.)
func (m *Model) ingestEnded(d source.IngestStats) {
	if !m.jobs.ingest || d.SampleFailed == "" {
		return
	}
	m.jobs.ingest = false
	m.jobRunning(pane.JobIngest, false)
	m.status = "sample ingest stopped on an error: " + d.SampleFailed
}

func (m *Model) startMigration(what string, f func(ctx context.Context) error) tea.Cmd {
	m.jobs.migration = what
	m.status = what + "…"
	return m.runJob("migration", f)
}

func (m *Model) handleJobDone(msg jobDoneMsg) tea.Cmd {
	outcome := "done"
	if msg.err != nil {
		outcome = "failed: " + msg.err.Error()
	}
	switch msg.job {
	case "indexes":
		if m.jobs.indexes != nil {
			m.jobs.indexes()
		}
		m.jobs.indexes = nil
		m.status = "index build " + outcome
	case "migration":
		m.status = m.jobs.migration + " " + outcome
		m.jobs.migration = ""
	case "ingest start":
		if msg.err != nil {
			m.jobs.ingest = false
			m.jobRunning(pane.JobIngest, false)
		}
		m.status = "sample ingest start " + outcome
	case "ingest stop":
		m.status = "sample ingest stop " + outcome
	default:
		m.status = msg.job + " " + outcome
	}
	return m.fetch(m.active)
}

// requestQuit quits, after a confirmation when a job is running.
func (m *Model) requestQuit() tea.Cmd {
	running := m.jobs.running()
	if len(running) == 0 {
		return tea.Quit
	}
	m.ask(confirmation{
		quit:   true,
		prompt: strings.Join(running, ", ") + " is running. Quit anyway? Benchmarks and index builds are cancelled, the ingest is stopped.",
	})
	return nil
}

// quit stops what runs, waits (at most quitWait) for the jobs and polls in
// flight to end, and ends the program. A migration is not cancelled: it
// gets the same time to finish.
func (m *Model) quit() tea.Cmd {
	for _, cancel := range []context.CancelFunc{m.jobs.bench, m.jobs.indexes} {
		if cancel != nil {
			cancel()
		}
	}
	track := m.track
	wait := func() tea.Msg { track.close(quitWait); return nil }
	if !m.jobs.ingest {
		return tea.Sequence(wait, tea.Quit)
	}
	src := m.src
	stop := func() tea.Msg { _ = src.StopIngest(); return nil }
	return tea.Sequence(stop, wait, tea.Quit)
}

// signalSessionTimeout bounds a cancel or terminate.
const signalSessionTimeout = 5 * time.Second

// signalSession cancels or terminates the session arg names, on the
// server the panels show (the pid was read there).
func (m *Model) signalSession(job pane.Job, arg string) tea.Cmd {
	sig, ok := m.src.(source.SessionSignaller)
	pid, start, err := pane.ParseSessionArg(arg)
	if !ok || err != nil {
		m.status = "cannot signal sessions here"
		return nil
	}
	what, do := "cancel", sig.CancelSession
	if job == pane.JobTerminateSession {
		what, do = "terminate", sig.TerminateSession
	}
	name := fmt.Sprintf("%s of pid %d", what, pid)
	m.status = name + " sent"
	ctx := source.WithServer(m.ctx, m.shown)
	return m.track.cmd(func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, signalSessionTimeout)
		defer cancel()
		return jobDoneMsg{job: name, err: do(ctx, pid, start)}
	})
}
