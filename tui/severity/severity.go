// Package severity shows an alert's severity: a label that reads the same
// without colour, and its colour from the theme. It sits between the theme,
// which knows no data types, and source, which knows no styles.
package severity

import (
	"github.com/charmbracelet/lipgloss"

	"hmperf/tui/source"
	"hmperf/tui/theme"
)

// Label spells a severity with a symbol and a word, so that it reads the
// same without colour.
func Label(sev source.Severity) string {
	switch sev {
	case source.Critical:
		return "!! CRITICAL"
	case source.Warning:
		return "!  WARNING"
	}
	return "?  " + string(sev)
}

// Render renders a severity's label in its colour.
func Render(st theme.Styles, sev source.Severity) string {
	return Style(st, sev).Render(Label(sev))
}

// Style is the style of a severity.
func Style(st theme.Styles, sev source.Severity) lipgloss.Style {
	switch sev {
	case source.Critical:
		return st.Crit
	case source.Warning:
		return st.Warn
	}
	return st.Muted
}
