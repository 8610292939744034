package tui

import (
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

// BenchmarkViewFull renders one full 160×48 frame of each panel with every
// chart filled. Data is pushed and charts drawn before the timer starts, as
// in the program: View only prints.
func BenchmarkViewFull(b *testing.B) {
	for p := range panelCount {
		b.Run(p.String(), func(b *testing.B) {
			m := New(newFake(), Options{Clock: fixedClock, Panel: p})
			next, _ := m.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
			m = next.(Model)
			next, _ = m.Update(m.fetch(p)())
			m = next.(Model)
			b.ReportAllocs()
			for b.Loop() {
				_ = m.View()
			}
		})
	}
}
