package widget

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
)

func TestInputEditsOnlyWhenFocused(t *testing.T) {
	var in Input
	in.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("x")})
	if in.Value() != "" {
		t.Fatal("unfocused input took a key")
	}
	in.Focus()
	in.CharLimit = 3
	in.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("abcd")})
	in.Update(tea.KeyMsg{Type: tea.KeyBackspace})
	if in.Value() != "ab" {
		t.Fatalf("value %q, want ab", in.Value())
	}
	in.Update(tea.KeyMsg{Type: tea.KeyCtrlU})
	if in.Value() != "" {
		t.Fatalf("ctrl+u left %q", in.Value())
	}
}

func TestBarWidthAndClamp(t *testing.T) {
	for _, f := range []float64{-1, 0, 0.5, 1, 2} {
		b := Bar(20, f, lipgloss.NewStyle())
		if lipgloss.Width(b) != 20 {
			t.Errorf("Bar(20, %v) is %d wide: %q", f, lipgloss.Width(b), b)
		}
	}
	if b := Bar(20, 1, lipgloss.NewStyle()); !strings.HasSuffix(b, "100%") || strings.Contains(b, ".") {
		t.Errorf("full bar %q", b)
	}
}
