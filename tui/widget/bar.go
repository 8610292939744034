// Package widget has the two small widgets the dashboard draws itself: a
// static progress bar and a one-line text input.
//
// bubbles/progress and bubbles/textinput would fit, but they pull in
// github.com/charmbracelet/harmonica and github.com/atotto/clipboard, which
// go.sum does not list; this package is the one place to change once it does.
package widget

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/lipgloss"
)

// Bar renders a progress bar of the given total width (including the
// percentage text) for a fraction between 0 and 1. It has no animation: the
// dashboard redraws it on every poll.
func Bar(width int, fraction float64, fill lipgloss.Style) string {
	fraction = min(max(fraction, 0), 1)
	pct := fmt.Sprintf(" %3.0f%%", fraction*100)
	w := max(width-len(pct), 1)
	full := int(fraction*float64(w) + 0.5)
	return fill.Render(strings.Repeat("#", full)) + strings.Repeat(".", w-full) + pct
}
