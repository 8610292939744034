package tui

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"hmperf/tui/pane"
)

// confirmation is the modal that asks before a write. With want empty it
// takes y or n; otherwise the user must type want (or, for force, a version
// number) and press enter, because a migration is not undone by a stray key.
type confirmation struct {
	quit    bool     // quit, rather than run job
	job     pane.Job // the write to run
	arg     string   // the job's argument (the benchmark's table)
	prompt  string
	want    string // text to type; "" for y/n
	version bool   // the typed text is the version to force
	input   textinput.Model
	err     string
}

func (c *confirmation) typed() bool { return c.want != "" || c.version }

// ask opens a confirmation. With several servers a write goes to the
// primary whichever server the panels show, and the prompt says so; with no
// primary to write to it does not open, and the status bar says why.
func (m *Model) ask(c confirmation) {
	if !c.quit && m.fleet() {
		where, err := m.src.WritesTo()
		if err != nil {
			m.status = "cannot write: " + err.Error()
			return
		}
		c.prompt = "On the primary, " + where + " (writes never go to a replica): " + c.prompt
	}
	if c.typed() {
		c.input = newInput("> ", 16)
		c.input.Focus()
	}
	m.confirm = &c
}

// request does what a panel's key asks: shows its status, and runs its
// job or asks first.
func (m *Model) request(r pane.Request) tea.Cmd {
	if r.Status != "" {
		m.status = r.Status
	}
	switch {
	case r.Job == pane.NoJob:
		return nil
	case r.Confirm:
		m.ask(confirmation{job: r.Job, arg: r.Arg, prompt: r.Prompt, want: r.Want, version: r.Version})
		return nil
	}
	return m.run(r.Job, r.Arg, 0)
}

// confirmKey handles a key while a confirmation is open.
func (m *Model) confirmKey(msg tea.KeyMsg) tea.Cmd {
	c := m.confirm
	switch {
	case msg.Type == tea.KeyEsc || msg.Type == tea.KeyCtrlC:
		m.confirm = nil
		m.status = "cancelled"
		return nil
	case !c.typed():
		switch msg.String() {
		case "y", "Y":
			m.confirm = nil
			return m.execute(*c, 0)
		case "n", "N":
			m.confirm = nil
			m.status = "cancelled"
		}
		return nil
	case msg.Type == tea.KeyEnter:
		return m.submitTyped()
	}
	before := c.input.Value()
	c.input, _ = c.input.Update(msg)
	if c.input.Value() != before {
		c.err = ""
	}
	return nil
}

// submitTyped checks the typed text and runs the action when it is right.
func (m *Model) submitTyped() tea.Cmd {
	c := m.confirm
	text := strings.TrimSpace(c.input.Value())
	if c.version {
		v, err := strconv.Atoi(text)
		if err != nil || v < 0 {
			c.err = "type a version number (0 or more)"
			return nil
		}
		m.confirm = nil
		return m.execute(*c, v)
	}
	if text != c.want {
		c.err = "type " + c.want + " exactly, or esc to cancel"
		return nil
	}
	m.confirm = nil
	return m.execute(*c, 0)
}

// execute runs a confirmed action; version is the typed version for force.
func (m *Model) execute(c confirmation, version int) tea.Cmd {
	if c.quit {
		return m.quit()
	}
	if m.src.ReadOnly() {
		m.status = m.readOnlyWhy()
		return nil
	}
	return m.run(c.job, c.arg, version)
}

// run starts job with its argument arg; version is the typed version for
// force.
func (m *Model) run(job pane.Job, arg string, version int) tea.Cmd {
	src := m.src
	switch job {
	case pane.JobBench:
		return m.startBench(arg)
	case pane.JobCancelBench:
		m.cancelBench()
	case pane.JobIngest:
		return m.toggleIngest()
	case pane.JobIndexes:
		return m.startIndexes()
	case pane.JobMigrateUp:
		return m.startMigration("migrate up", src.MigrateUp)
	case pane.JobMigrateDown:
		return m.startMigration("migrate down", func(ctx context.Context) error { return src.MigrateDown(ctx, 1) })
	case pane.JobForce:
		return m.startMigration(fmt.Sprintf("force version %d", version),
			func(ctx context.Context) error { return src.Force(ctx, version) })
	case pane.JobCancelSession, pane.JobTerminateSession:
		return m.signalSession(job, arg)
	}
	return nil
}
