// Package theme holds the dashboard's semantic colours and the styles built
// from them. Styles are built once by the root model and handed down, so no
// package keeps mutable style globals.
package theme

import (
	"github.com/charmbracelet/bubbles/progress"
	"github.com/charmbracelet/bubbles/table"
	"github.com/charmbracelet/lipgloss"
)

// Theme is a palette of semantic colours. Adaptive colours pick a shade for
// light and dark terminals; with NO_COLOR lipgloss drops them, which is why
// every meaning they carry is also spelt out in words or symbols.
type Theme struct {
	OK     lipgloss.AdaptiveColor
	Warn   lipgloss.AdaptiveColor
	Crit   lipgloss.AdaptiveColor
	Muted  lipgloss.AdaptiveColor
	Accent lipgloss.AdaptiveColor
	Text   lipgloss.AdaptiveColor
}

// Default returns the standard palette.
func Default() Theme {
	return Theme{
		OK:     lipgloss.AdaptiveColor{Light: "#1B7F3B", Dark: "#5FD787"},
		Warn:   lipgloss.AdaptiveColor{Light: "#9A6700", Dark: "#FFD75F"},
		Crit:   lipgloss.AdaptiveColor{Light: "#C62828", Dark: "#FF5F5F"},
		Muted:  lipgloss.AdaptiveColor{Light: "#6E6E6E", Dark: "#8A8A8A"},
		Accent: lipgloss.AdaptiveColor{Light: "#5A4FCF", Dark: "#AF87FF"},
		Text:   lipgloss.AdaptiveColor{Light: "#1A1A1A", Dark: "#E4E4E4"},
	}
}

// Styles are the lipgloss styles every panel draws with.
type Styles struct {
	Theme     Theme
	OK        lipgloss.Style
	Warn      lipgloss.Style
	Crit      lipgloss.Style
	Muted     lipgloss.Style
	Accent    lipgloss.Style
	Bold      lipgloss.Style
	Title     lipgloss.Style // section titles inside a panel
	Tab       lipgloss.Style
	ActiveTab lipgloss.Style
	StatusBar lipgloss.Style
	Badge     lipgloss.Style // short inverse labels: PAUSED, READ-ONLY
	Stale     lipgloss.Style // applied to a panel whose data is stale
	Modal     lipgloss.Style // confirmation and help boxes
	Table     table.Styles
	// Series are distinct styles for chart data sets, in order.
	Series []lipgloss.Style
}

// NewStyles builds the styles of a theme.
func NewStyles(t Theme) Styles {
	base := lipgloss.NewStyle()
	s := Styles{
		Theme:     t,
		OK:        base.Foreground(t.OK),
		Warn:      base.Foreground(t.Warn),
		Crit:      base.Foreground(t.Crit).Bold(true),
		Muted:     base.Foreground(t.Muted),
		Accent:    base.Foreground(t.Accent),
		Bold:      base.Bold(true),
		Title:     base.Foreground(t.Accent).Bold(true),
		Tab:       base.Foreground(t.Muted),
		ActiveTab: base.Foreground(t.Accent).Bold(true),
		StatusBar: base.Foreground(t.Muted),
		Badge:     base.Reverse(true).Bold(true).Padding(0, 1),
		Stale:     base.Foreground(t.Muted).Faint(true),
		Modal:     base.Border(lipgloss.NormalBorder()).BorderForeground(t.Accent).Padding(0, 1),
		Series: []lipgloss.Style{
			base.Foreground(t.Accent),
			base.Foreground(t.OK),
			base.Foreground(t.Warn),
			base.Foreground(t.Crit),
			base.Foreground(t.Text),
		},
	}
	s.Table = table.Styles{
		Header:   base.Bold(true).Foreground(t.Accent).Padding(0, 1),
		Cell:     base.Padding(0, 1),
		Selected: base.Bold(true).Foreground(t.Accent),
	}
	return s
}

// Bar renders a static progress bar, its percentage included, width cells
// wide, for a fraction between 0 and 1. The dashboard redraws it on every
// poll, so it is not animated. Its colour profile is lipgloss's, so that
// NO_COLOR (and the golden tests' plain profile) apply to it too.
func (s Styles) Bar(width int, fraction float64) string {
	fill := s.Theme.Accent.Light
	if lipgloss.HasDarkBackground() {
		fill = s.Theme.Accent.Dark
	}
	bar := progress.New(progress.WithSolidFill(fill), progress.WithWidth(width),
		progress.WithColorProfile(lipgloss.ColorProfile()))
	return bar.ViewAs(min(max(fraction, 0), 1))
}

// SeriesStyle returns the style of the i-th chart data set.
func (s Styles) SeriesStyle(i int) lipgloss.Style {
	return s.Series[i%len(s.Series)]
}
