package tui

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"hmperf/tui/source"
)

// action is a write waiting for its confirmation.
type action int

const (
	actQuit action = iota
	actBench
	actIngest
	actIndexes
	actMigrateUp
	actMigrateDown
	actForce
)

// confirmation is the modal that asks before a write. With want empty it
// takes y or n; otherwise the user must type want (or, for force, a version
// number) and press enter, because a migration is not undone by a stray key.
type confirmation struct {
	act     action
	prompt  string
	want    string // text to type; "" for y/n
	version bool   // the typed text is the version to force
	table   string // the benchmark's table
	input   textinput.Model
	err     string
}

func (c *confirmation) typed() bool { return c.want != "" || c.version }

// ask opens a confirmation. With several servers a write goes to the
// primary whichever server the panels show, and the prompt says so; with no
// primary to write to it does not open, and the status bar says why.
func (m *Model) ask(c confirmation) {
	if c.act != actQuit && m.fleet() {
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

// actionKey turns a write key into its confirmation. The bindings are
// disabled in read-only mode, so none of these match there.
func (m *Model) actionKey(msg tea.KeyMsg) (tea.Cmd, bool) {
	k := m.keys
	switch {
	case key.Matches(msg, k.Cancel):
		m.cancelBench()
	case key.Matches(msg, k.PrevTable):
		m.benchmarks.Select(-1)
	case key.Matches(msg, k.NextTable):
		m.benchmarks.Select(+1)
	case key.Matches(msg, k.Metric):
		m.constraints.NextMetric()
		m.status = "chart: " + m.constraints.Metric().String()
	case key.Matches(msg, k.Bench):
		t := m.benchmarks.Selected()
		m.ask(confirmation{act: actBench, table: t,
			prompt: "Run the benchmark for " + t + "? " + benchWhere})
	case key.Matches(msg, k.Ingest):
		if m.jobs.ingest {
			return m.toggleIngest(), true // stopping needs no confirmation
		}
		m.ask(confirmation{act: actIngest, prompt: ingestPrompt(m.ingest.Target())})
	case key.Matches(msg, k.Process):
		m.ask(confirmation{act: actIndexes,
			prompt: "Build the queued indexes now (CREATE INDEX CONCURRENTLY)?"})
	case key.Matches(msg, k.MigrateUp):
		m.askMigrateUp()
	case key.Matches(msg, k.MigrateDown):
		m.askMigrateDown()
	case key.Matches(msg, k.Force):
		m.askForce()
	default:
		return nil, false
	}
	return nil, true
}

// benchWhere tells the person confirming a benchmark where its rows go
// (queries/bench makes the copies; the tui does not import it).
const benchWhere = "Rows go to scratch copies in schema hmperf_scratch_N, built from the live catalogue and " +
	"dropped at the end; the service's tables, sequences and users are not touched."

// ingestPrompt asks before a sample ingest and says where its generated
// rows go.
func ingestPrompt(t source.WriteTarget) string {
	if t == source.TargetUnknown {
		return "Start a sample ingest? Where it writes is not known yet: hmperf decides as it starts " +
			"(the sandbox hmperf_sandbox on a database it did not create)."
	}
	return "Start a sample ingest, writing generated rows to " + t.String() + "?"
}

func (m *Model) askMigrateUp() {
	pending := 0
	for _, mg := range m.migrations.Status().Migrations {
		if !mg.Applied {
			pending++
		}
	}
	if pending == 0 {
		m.status = "no pending migration"
		return
	}
	m.ask(confirmation{act: actMigrateUp, want: "yes",
		prompt: fmt.Sprintf("Apply %d pending migration(s)? Type yes and press enter.", pending)})
}

func (m *Model) askMigrateDown() {
	cur := m.migrations.Status().Current
	if cur == 0 {
		m.status = "no migration applied"
		return
	}
	v := strconv.Itoa(cur)
	m.ask(confirmation{act: actMigrateDown, want: v,
		prompt: "Revert migration " + v + "? Type " + v + " and press enter."})
}

func (m *Model) askForce() {
	cur := m.migrations.Status().Current
	m.ask(confirmation{act: actForce, version: true, prompt: fmt.Sprintf(
		"Migration %d failed and left the database dirty. Type the version that is really applied "+
			"(%d if the migration left nothing behind, %d if you finished it by hand) and press enter.",
		cur, cur-1, cur)})
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
	if c.act == actQuit {
		return m.quit()
	}
	if m.src.ReadOnly() {
		m.status = "read-only: writes are disabled"
		return nil
	}
	src := m.src
	switch c.act {
	case actBench:
		return m.startBench(c.table)
	case actIngest:
		return m.toggleIngest()
	case actIndexes:
		return m.startIndexes()
	case actMigrateUp:
		return m.startMigration("migrate up", src.MigrateUp)
	case actMigrateDown:
		return m.startMigration("migrate down", func(ctx context.Context) error { return src.MigrateDown(ctx, 1) })
	case actForce:
		return m.startMigration(fmt.Sprintf("force version %d", version),
			func(ctx context.Context) error { return src.Force(ctx, version) })
	}
	return nil
}
