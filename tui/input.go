package tui

import (
	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/textinput"
)

// newInput returns a one-line text input of at most limit characters. Its
// cursor does not blink: blinking would redraw the screen twice a second
// while the dashboard is otherwise idle.
func newInput(prompt string, limit int) textinput.Model {
	in := textinput.New()
	in.Prompt, in.CharLimit = prompt, limit
	in.Cursor.SetMode(cursor.CursorStatic)
	return in
}
