package tui

import (
	"testing"
	"unicode/utf8"

	"github.com/charmbracelet/bubbles/key"

	"hmperf/tui/theme"
)

// The panels the tests drive, found in the list by title so that a panel
// added anywhere in the list moves none of them.
var (
	Overview    = panelNamed("Overview")
	Constraints = panelNamed("Constraints")
	Alerts      = panelNamed("Alerts")
	Indexes     = panelNamed("Indexes")
	Benchmarks  = panelNamed("Benchmarks")
	Ingest      = panelNamed("Ingest")
	Migrations  = panelNamed("Migrations")
	Servers     = panelNamed("Servers")
	Activity    = panelNamed("Activity")
	panelCount  = Panel(len(testPanels()))
)

func testPanels() []string {
	var titles []string
	for _, pn := range panelList(theme.NewStyles(theme.Default()), []string{"fake"}) {
		titles = append(titles, pn.Title())
	}
	return titles
}

func panelNamed(title string) Panel {
	for i, t := range testPanels() {
		if t == title {
			return Panel(i)
		}
	}
	panic("no panel titled " + title)
}

// String names p in test names and messages.
func (p Panel) String() string { return testPanels()[p] }

// panelKey is the binding of any panel whose help key is help, as last
// configured.
func panelKey(t *testing.T, m Model, help string) key.Binding {
	t.Helper()
	for _, pn := range m.panels {
		for _, b := range pn.Keys().Full {
			if b.Help().Key == help {
				return b
			}
		}
	}
	t.Fatalf("no panel binds %q", help)
	return key.Binding{}
}

// TestPanelList checks what the root assumes of the list: titles unique and
// the short ones at most seven letters, and no more panels than the number
// keys reach.
func TestPanelList(t *testing.T) {
	m := New(newFake(), Options{Clock: fixedClock})
	if n := len(m.panels); n == 0 || n > maxPanels {
		t.Fatalf("%d panels; the number keys reach 1 to %d", n, maxPanels)
	}
	seen := map[string]bool{}
	for _, pn := range m.panels {
		if seen[pn.Title()] {
			t.Errorf("two panels titled %q", pn.Title())
		}
		seen[pn.Title()] = true
		if n := utf8.RuneCountInString(pn.ShortTitle()); n > 7 {
			t.Errorf("short title %q of %s has %d letters, want at most 7", pn.ShortTitle(), pn.Title(), n)
		}
	}
	if got, want := m.keys.Panel.Help().Key, "1-"+string(rune('0'+len(m.panels))); got != want {
		t.Errorf("panel key help %q, want %q", got, want)
	}
}
