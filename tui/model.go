// Package tui is hmperf's terminal dashboard: a bubbletea root model over
// one sub-model per panel, fed by a source.Source. It never talks to the
// database itself.
package tui

import (
	"context"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"hmperf/tui/pane"
	"hmperf/tui/source"
	"hmperf/tui/theme"
)

// Model is the root model: the panels, the polling state, running jobs and
// the modal states (help, filter, confirmation).
type Model struct {
	// ctx is the parent of every query and job. A bubbletea model has no
	// other way to receive the program's context.
	ctx    context.Context
	src    source.Source
	opts   Options
	keys   KeyMap
	styles theme.Styles
	help   help.Model

	width, height int
	active        Panel

	// panels are the tabs, in order (panelList); polls is the polling
	// state of each, by the same index.
	panels []pane.Panel
	polls  []pollState

	// names are the servers of the set; shown is the one the panels other
	// than Servers read.
	names []string
	shown int
	// server and serverVersion name the shown server in the header, as
	// the last overview said.
	server, serverVersion string

	ticker ticker
	firing alertCounts // the header's badge
	jobs   jobs
	procs  procs    // the Ps the process runs on, one while no job runs
	frame  *frame   // the last View, while nothing changed
	track  *tracker // the goroutines of jobs and polls, waited for on quit

	showHelp  bool
	filtering bool
	filter    textinput.Model
	confirm   *confirmation
	status    string // the last action's outcome, shown in the status bar

	// jumping is set while the replay's g asks for a time, typed in jump.
	jumping bool
	jump    textinput.Model
}

// New returns the dashboard over src.
func New(src source.Source, opts Options) Model {
	opts = opts.withDefaults()
	st := theme.NewStyles(theme.Default())
	panels := panelList(st, src.ServerNames())
	if opts.Panel < 0 || int(opts.Panel) >= len(panels) {
		opts.Panel = 0
	}
	m := Model{
		ctx:    context.Background(),
		track:  newTracker(),
		src:    src,
		opts:   opts,
		keys:   NewKeyMap(len(panels)),
		styles: st,
		help:   help.New(),
		width:  80,
		height: 24,
		active: opts.Panel,
		panels: panels,
		polls:  make([]pollState, len(panels)),
		names:  src.ServerNames(),
		ticker: ticker{interval: opts.Interval},
		filter: newInput("/", 64),
		procs:  newProcs(opts.Procs),
		frame:  &frame{},
	}
	if opts.Replay != nil {
		m.keys.forReplay()
		m.status = replayHelp
	}
	if opts.IngestRunning {
		m.jobs.ingest = true
		m.jobRunning(pane.JobIngest, true)
	}
	m.resize(m.width, m.height)
	m.configureKeys()
	return m
}

// Init asks for an immediate tick, which polls the first panel and starts
// the ticker. Init cannot poll itself: it has a value receiver, so the
// bookkeeping of the request would be lost.
func (m Model) Init() tea.Cmd {
	gen := m.ticker.gen
	return func() tea.Msg { return tickMsg{gen: gen} }
}

// Update dispatches a message to the handler of its kind.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if _, tick := msg.(tickMsg); !tick {
		m.frame.kept = false
	}
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.resize(msg.Width, msg.Height)
	case tea.KeyMsg:
		cmd = m.handleKey(msg)
	case tickMsg:
		cmd = m.handleTick(msg)
	case dataMsg:
		cmd = m.handleData(msg)
	case benchMsg:
		cmd = m.handleBench(msg)
	case jobDoneMsg:
		cmd = m.handleJobDone(msg)
	case exportedMsg:
		m.handleExported(msg)
	default:
		cmd = m.panel(m.active).Update(msg)
	}
	m.configureKeys()
	m.procs.fit(m.jobs.busy())
	return m, cmd
}

// configureKeys enables the bindings that fit the current state.
func (m *Model) configureKeys() {
	m.keys.configure(keyState{
		hasTable: m.panel(m.active).Table() != nil,
		fleet:    m.fleet(),
	})
	ro := m.src.ReadOnly()
	m.each(func(p Panel, pn pane.Panel) { pn.Configure(pane.Env{Active: p == m.active, ReadOnly: ro}) })
}

// handleKey routes a key to the modal that has focus, else to the global
// bindings, else to the panel.
func (m *Model) handleKey(msg tea.KeyMsg) tea.Cmd {
	switch {
	case m.confirm != nil:
		return m.confirmKey(msg)
	case m.filtering:
		return m.filterKey(msg)
	case m.showHelp && !key.Matches(msg, m.keys.Quit):
		m.showHelp = false // any key closes help
		return nil
	}
	if cmd, ok := m.replayKey(msg); ok {
		return cmd
	}
	if cmd, ok := m.globalKey(msg); ok {
		return cmd
	}
	if r, ok := m.panel(m.active).HandleKey(msg); ok {
		return m.request(r)
	}
	if m.src.ReadOnly() && isWriteKey(m.panel(m.active).Keys(), msg) {
		m.status = m.readOnlyWhy()
		return nil
	}
	return m.panel(m.active).Update(msg)
}

// globalKey handles the bindings every panel shares.
func (m *Model) globalKey(msg tea.KeyMsg) (tea.Cmd, bool) {
	k, n := m.keys, Panel(len(m.panels))
	switch {
	case key.Matches(msg, k.Quit):
		return m.requestQuit(), true
	case key.Matches(msg, k.Help):
		m.showHelp = true
	case key.Matches(msg, k.NextPanel):
		return m.switchTo((m.active + 1) % n), true
	case key.Matches(msg, k.PrevPanel):
		return m.switchTo((m.active + n - 1) % n), true
	case key.Matches(msg, k.Server):
		return m.showServer((m.shown + 1) % len(m.names)), true
	case key.Matches(msg, k.Panel):
		return m.switchTo(Panel(msg.String()[0] - '1')), true
	case key.Matches(msg, k.Pause):
		return m.togglePause(), true
	case key.Matches(msg, k.Faster):
		return m.changeInterval(-1), true
	case key.Matches(msg, k.Slower):
		return m.changeInterval(+1), true
	case key.Matches(msg, k.Refresh):
		return m.fetch(m.active), true
	case key.Matches(msg, k.Filter):
		m.openFilter()
	case key.Matches(msg, k.Export):
		return m.export(), true
	default:
		return nil, false
	}
	return nil, true
}

// switchTo shows panel p and polls it at once, so a panel is never shown
// with data older than one interval.
func (m *Model) switchTo(p Panel) tea.Cmd {
	if p == m.active {
		return nil
	}
	m.active = p
	m.status = ""
	m.configureKeys()
	return m.fetch(p)
}

// fleet reports whether the dashboard watches more than one server.
func (m *Model) fleet() bool { return len(m.names) > 1 }

// showServer makes the panels show server i. Answers still in flight for
// the server shown before are dropped, and every panel but Servers shows
// "Loading" until its first answer from server i, so no panel shows one
// server's data under another's name.
func (m *Model) showServer(i int) tea.Cmd {
	if i == m.shown {
		return nil
	}
	m.shown = i
	m.each(func(p Panel, pn pane.Panel) {
		if w, ok := pn.(pane.ServerWatcher); ok {
			w.SetShown(i)
		}
		if pn.Header() != pane.HeaderServers {
			m.polls[p] = pollState{gen: m.polls[p].gen + 1}
		}
	})
	m.status = "showing " + m.serverLabel(i)
	return m.fetch(m.active)
}

// resize hands the new terminal size down: header and tabs take two lines,
// the status bar and the footer one each.
func (m *Model) resize(w, h int) {
	m.width, m.height = max(w, 1), max(h, 1)
	m.help.Width = m.width
	bodyH := m.bodyHeight()
	m.each(func(_ Panel, pn pane.Panel) { pn.SetSize(m.width, bodyH) })
}

// chromeLines is the height of everything around the panel: header,
// tabs, status bar and footer, and with several servers the line that
// lists them.
func (m *Model) chromeLines() int {
	if m.fleet() {
		return 5
	}
	return 4
}

func (m *Model) bodyHeight() int { return max(m.height-m.chromeLines(), 1) }
