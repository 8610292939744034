// Package pane is the contract between the dashboard's root model and its
// panels: what a panel must offer (title, poll, view, keys, confirmations)
// for the root to show it as one more tab without code of its own.
package pane

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"hmperf/tui/datatable"
	"hmperf/tui/source"
)

// Panel is one tab of the dashboard. The root keeps a list of them; the tab
// bar, the number keys, polling, the footer and help come from that list.
type Panel interface {
	// Title names the tab; ShortTitle is at most seven letters, for a
	// narrow tab line.
	Title() string
	ShortTitle() string
	// Poll reads the panel's data. It runs on its own goroutine and must
	// not touch the panel; its answer goes to Apply.
	Poll(ctx context.Context, src source.Poller) (any, error)
	// Apply shows what Poll returned; now is when it arrived.
	Apply(data any, now time.Time)
	SetSize(w, h int)
	Update(msg tea.Msg) tea.Cmd
	View() string
	// Table returns the table that / filters and e exports, or nil.
	Table() *datatable.Model
	// Header says what the panel's data tells the header.
	Header() Header
	// Keys are the panel's own bindings. Configure enables those that work
	// in env; a disabled binding neither matches nor shows in help.
	Keys() Keys
	Configure(env Env)
	// HandleKey acts on a key of the visible panel. ok is false when the
	// key is not one of the panel's bindings.
	HandleKey(msg tea.KeyMsg) (r Request, ok bool)
}

// Keys are a panel's bindings, for the footer, the help overlay and the
// read-only note.
type Keys struct {
	Short []key.Binding // the footer, before the common keys
	Full  []key.Binding // the panel's column of the help overlay
	Write []key.Binding // those that change the database
}

// Env is the dashboard state a panel's bindings depend on.
type Env struct {
	Active   bool // the panel is the visible one
	ReadOnly bool // writes are disabled
}

// Header is what a panel's data tells the header, which shows firing
// alerts on every panel.
type Header int

const (
	// HeaderNone: the data says nothing about alerts.
	HeaderNone Header = iota
	// HeaderAlertCounts: the data carries the shown server's alert counts,
	// so no background poll is needed while the panel is visible.
	HeaderAlertCounts
	// HeaderAlerts: the data carries the shown server's alerts, and the
	// panel is polled in the background for the badge.
	HeaderAlerts
	// HeaderServers: the data carries every server's state and alerts, and
	// the panel is polled in the background with several servers. It reads
	// every server, whichever the other panels show.
	HeaderServers
)

// Job is a write the root runs for a panel. The root owns running jobs: it
// asks before quitting while one runs and waits for it on quit.
type Job int

// The jobs.
const (
	NoJob Job = iota
	JobBench
	JobCancelBench
	JobIngest
	JobIndexes
	JobMigrateUp
	JobMigrateDown
	JobForce
	// JobCancelSession and JobTerminateSession signal one server session;
	// Arg is its pid and backend start, as SessionArg makes it.
	JobCancelSession
	JobTerminateSession
)

// SessionArg is the Arg of a session's signal job: the pid, and the
// backend's start that tells it from a later process given the same pid.
func SessionArg(pid int, start time.Time) string {
	return strconv.Itoa(pid) + " " + start.Format(time.RFC3339Nano)
}

// ParseSessionArg reads SessionArg's text back.
func ParseSessionArg(arg string) (pid int, start time.Time, err error) {
	p, s, _ := strings.Cut(arg, " ")
	if pid, err = strconv.Atoi(p); err != nil {
		return 0, time.Time{}, err
	}
	start, err = time.Parse(time.RFC3339Nano, s)
	return pid, start, err
}

// Request is what a panel's key asks of the root: a status line, and
// possibly a job, run at once or after a confirmation. The zero Request
// asks nothing.
type Request struct {
	Status string // shown in the status bar when not empty
	Job    Job
	Arg    string // the job's argument (the benchmark's table)
	// Confirm asks before the job: Prompt, and Want (text to type, "" for
	// y/n) or Version (the typed text is a version number).
	Confirm bool
	Prompt  string
	Want    string
	Version bool
}

// JobWatcher is a panel that shows whether a job of its runs.
type JobWatcher interface {
	JobRunning(j Job, running bool)
}

// ProgressWatcher is a panel that shows a running benchmark's progress.
type ProgressWatcher interface {
	BenchProgress(p source.BenchProgress)
}

// ServerWatcher is a panel that marks which server the others show.
type ServerWatcher interface {
	SetShown(i int)
}

// Binding returns an enabled binding of keys, shown in help as help and
// desc.
func Binding(help, desc string, keys ...string) key.Binding {
	return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
}

// NoKeys is embedded by a panel that has no bindings of its own.
type NoKeys struct{}

// Keys returns no bindings.
func (NoKeys) Keys() Keys { return Keys{} }

// Configure has nothing to enable.
func (NoKeys) Configure(Env) {}

// HandleKey handles no key.
func (NoKeys) HandleKey(tea.KeyMsg) (Request, bool) { return Request{}, false }
