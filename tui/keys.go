package tui

import "github.com/charmbracelet/bubbles/key"

// KeyMap is every key binding of the dashboard. Bindings a panel does not
// support, or that read-only mode forbids, are disabled rather than skipped
// in code, so that help shows exactly what works.
type KeyMap struct {
	Quit      key.Binding
	Help      key.Binding
	NextPanel key.Binding
	PrevPanel key.Binding
	Panel     key.Binding // 1-8
	Server    key.Binding
	Pause     key.Binding
	Faster    key.Binding
	Slower    key.Binding
	Refresh   key.Binding
	Filter    key.Binding
	Export    key.Binding

	Bench       key.Binding
	Cancel      key.Binding
	PrevTable   key.Binding
	NextTable   key.Binding
	Metric      key.Binding
	Ingest      key.Binding
	Process     key.Binding
	MigrateUp   key.Binding
	MigrateDown key.Binding
	Force       key.Binding
}

// NewKeyMap returns the default bindings, all enabled.
func NewKeyMap() KeyMap {
	b := func(help, desc string, keys ...string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
	}
	return KeyMap{
		Quit:      b("q", "quit", "q", "ctrl+c"),
		Help:      b("?", "help", "?"),
		NextPanel: b("tab", "next panel", "tab"),
		PrevPanel: b("shift+tab", "previous panel", "shift+tab"),
		Panel:     b("1-8", "go to panel", "1", "2", "3", "4", "5", "6", "7", "8"),
		Server:    b("s", "next server", "s"),
		Pause:     b("space", "pause polling", " "),
		Faster:    b("+", "poll faster", "+", "="),
		Slower:    b("-", "poll slower", "-", "_"),
		Refresh:   b("r", "refresh now", "r"),
		Filter:    b("/", "filter table", "/"),
		Export:    b("e", "export CSV", "e"),

		Bench:       b("b", "run benchmark", "b"),
		Cancel:      b("esc", "cancel benchmark", "esc"),
		PrevTable:   b("←", "previous table", "left", "h"),
		NextTable:   b("→", "next table", "right", "l"),
		Metric:      b("m", "chart metric", "m"),
		Ingest:      b("i", "start/stop ingest", "i"),
		Process:     b("p", "build queued indexes", "p"),
		MigrateUp:   b("u", "migrate up", "u"),
		MigrateDown: b("d", "migrate down", "d"),
		Force:       b("f", "force version", "f"),
	}
}

// keyState is what decides which bindings are enabled.
type keyState struct {
	panel        Panel
	readOnly     bool
	hasTable     bool
	dirty        bool
	benchRunning bool
	fleet        bool // several servers
}

// configure enables the bindings that work in s and disables the rest.
func (k *KeyMap) configure(s keyState) {
	write := !s.readOnly
	k.Server.SetEnabled(s.fleet)
	k.Filter.SetEnabled(s.hasTable)
	k.Export.SetEnabled(s.hasTable)
	onBench := s.panel == Benchmarks
	k.Bench.SetEnabled(onBench && write && !s.benchRunning)
	k.Cancel.SetEnabled(onBench && s.benchRunning)
	k.PrevTable.SetEnabled(onBench)
	k.NextTable.SetEnabled(onBench)
	k.Metric.SetEnabled(s.panel == Constraints)
	k.Ingest.SetEnabled(s.panel == Ingest && write)
	k.Process.SetEnabled(s.panel == Indexes && write)
	onMig := s.panel == Migrations && write
	k.MigrateUp.SetEnabled(onMig && !s.dirty)
	k.MigrateDown.SetEnabled(onMig && !s.dirty)
	k.Force.SetEnabled(onMig && s.dirty)
}

// writeKeys are the bindings that change the database, in help order.
func (k KeyMap) writeKeys() []key.Binding {
	return []key.Binding{k.Bench, k.Ingest, k.Process, k.MigrateUp, k.MigrateDown, k.Force}
}

// ShortHelp is the footer: the panel's own keys first, then the common ones.
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{
		k.Bench, k.Cancel, k.NextTable, k.Metric, k.Ingest, k.Process, k.MigrateUp, k.MigrateDown, k.Force,
		k.Server, k.Panel, k.Filter, k.Export, k.Pause, k.Refresh, k.Help, k.Quit,
	}
}

// FullHelp is the ? overlay, in columns.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.NextPanel, k.PrevPanel, k.Panel, k.Server, k.Help, k.Quit},
		{k.Pause, k.Faster, k.Slower, k.Refresh, k.Filter, k.Export},
		{k.Metric, k.Bench, k.Cancel, k.PrevTable, k.NextTable, k.Ingest, k.Process, k.MigrateUp, k.MigrateDown, k.Force},
	}
}
