package widget

import (
	"unicode"

	tea "github.com/charmbracelet/bubbletea"
)

// Input is a one-line text input: printable keys append, backspace deletes,
// ctrl+u clears. Enter and esc are left to the caller, which decides what
// they mean. The zero value is an empty, unfocused input.
type Input struct {
	Prompt    string
	value     []rune
	focused   bool
	CharLimit int
}

// Value returns the text typed so far.
func (in Input) Value() string { return string(in.value) }

// SetValue replaces the text.
func (in *Input) SetValue(s string) { in.value = []rune(s) }

// Focus makes the input take keys.
func (in *Input) Focus() { in.focused = true }

// Blur stops the input taking keys.
func (in *Input) Blur() { in.focused = false }

// Focused reports whether the input takes keys.
func (in Input) Focused() bool { return in.focused }

// Update applies a key to the text. It reports whether the key changed it.
func (in *Input) Update(msg tea.Msg) bool {
	k, ok := msg.(tea.KeyMsg)
	if !ok || !in.focused {
		return false
	}
	switch k.Type {
	case tea.KeyBackspace:
		if len(in.value) == 0 {
			return false
		}
		in.value = in.value[:len(in.value)-1]
		return true
	case tea.KeyCtrlU:
		in.value = in.value[:0]
		return true
	case tea.KeyRunes, tea.KeySpace:
		return in.insert(k.Runes)
	}
	return false
}

func (in *Input) insert(rs []rune) bool {
	changed := false
	for _, r := range rs {
		if !unicode.IsPrint(r) || (in.CharLimit > 0 && len(in.value) >= in.CharLimit) {
			continue
		}
		in.value = append(in.value, r)
		changed = true
	}
	return changed
}

// View renders the prompt, the text and, when focused, a block cursor.
func (in Input) View() string {
	s := in.Prompt + string(in.value)
	if in.focused {
		s += "_"
	}
	return s
}
