package tui

import (
	"strconv"

	"github.com/charmbracelet/bubbles/key"

	"hmperf/tui/pane"
)

// KeyMap is the bindings every panel shares; each panel owns its own
// (pane.Keys). Bindings that do not work now are disabled rather than
// skipped in code, so that help shows exactly what works.
type KeyMap struct {
	Quit      key.Binding
	Help      key.Binding
	NextPanel key.Binding
	PrevPanel key.Binding
	Panel     key.Binding // 1 to the number of panels
	Server    key.Binding
	Pause     key.Binding
	Faster    key.Binding
	Slower    key.Binding
	Refresh   key.Binding
	Filter    key.Binding
	Export    key.Binding
	// Step and Jump move through a recording; enabled only in a replay.
	Step key.Binding
	Jump key.Binding
}

// NewKeyMap returns the default bindings for n panels, all enabled.
func NewKeyMap(n int) KeyMap {
	b := pane.Binding
	digits := make([]string, 0, n)
	for i := range n {
		digits = append(digits, strconv.Itoa(i+1))
	}
	return KeyMap{
		Quit:      b("q", "quit", "q", "ctrl+c"),
		Help:      b("?", "help", "?"),
		NextPanel: b("tab", "next panel", "tab"),
		PrevPanel: b("shift+tab", "previous panel", "shift+tab"),
		Panel:     b("1-"+strconv.Itoa(n), "go to panel", digits...),
		Server:    b("s", "next server", "s"),
		Pause:     b("space", "pause polling", " "),
		Faster:    b("+", "poll faster", "+", "="),
		Slower:    b("-", "poll slower", "-", "_"),
		Refresh:   b("r", "refresh now", "r"),
		Filter:    b("/", "filter table", "/"),
		Export:    b("e", "export CSV", "e"),
		Step:      disabled(b("←/→", "step one record", "left", "right")),
		Jump:      disabled(b("g", "jump to a time", "g")),
	}
}

// disabled is k, disabled.
func disabled(k key.Binding) key.Binding {
	k.SetEnabled(false)
	return k
}

// forReplay gives space and +/- the meanings they have in a replay, and
// enables the keys that move through the recording, so that help tells
// what the keys do there.
func (k *KeyMap) forReplay() {
	k.Pause.SetHelp("space", "pause the replay")
	k.Faster.SetHelp("+", "replay faster")
	k.Slower = pane.Binding("-", "replay slower", "-")
	k.Step.SetEnabled(true)
	k.Jump.SetEnabled(true)
}

// keyState is what decides which shared bindings are enabled.
type keyState struct {
	hasTable bool
	fleet    bool // several servers
}

// configure enables the bindings that work in s and disables the rest.
func (k *KeyMap) configure(s keyState) {
	k.Server.SetEnabled(s.fleet)
	k.Filter.SetEnabled(s.hasTable)
	k.Export.SetEnabled(s.hasTable)
}

// writeKeys are the bindings of every panel that change the database, in
// tab order.
func (m *Model) writeKeys() []key.Binding {
	var out []key.Binding
	m.each(func(_ Panel, pn pane.Panel) { out = append(out, pn.Keys().Write...) })
	return out
}

// shortHelp is the footer: the visible panel's keys first, then the common
// ones.
func (m *Model) shortHelp() []key.Binding {
	k := m.keys
	return append(m.panel(m.active).Keys().Short,
		k.Server, k.Panel, k.Filter, k.Export, k.Pause, k.Refresh, k.Help, k.Quit)
}

// fullHelp is the ? overlay, in columns: the common keys, then the visible
// panel's.
func (m *Model) fullHelp() [][]key.Binding {
	k := m.keys
	return [][]key.Binding{
		{k.NextPanel, k.PrevPanel, k.Panel, k.Server, k.Help, k.Quit},
		{k.Pause, k.Step, k.Faster, k.Slower, k.Jump, k.Refresh, k.Filter, k.Export},
		m.panel(m.active).Keys().Full,
	}
}
