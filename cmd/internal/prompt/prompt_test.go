package prompt

import (
	"strings"
	"testing"
)

// TestPrompt: --yes answers; without a terminal it refuses; at a terminal
// only "y"/"yes" (or the exact word typed) goes on.
func TestPrompt(t *testing.T) {
	for _, tc := range []struct {
		name     string
		terminal bool
		yes      bool
		word     string // "" for a yes/no question
		answer   string
		ok       bool
	}{
		{"--yes", false, true, "", "", true},
		{"no terminal", false, false, "", "y\n", false},
		{"yes", true, false, "", "Yes\n", true},
		{"no", true, false, "", "n\n", false},
		{"nothing", true, false, "", "", false},
		{"the word", true, false, "adopt", "adopt\n", true},
		{"another word", true, false, "adopt", "y\n", false},
		{"the word, --yes", false, true, "adopt", "", true},
	} {
		var out strings.Builder
		p := Prompt{In: strings.NewReader(tc.answer), Out: &out, IsTerminal: func() bool { return tc.terminal }}
		var err error
		if tc.word == "" {
			err = p.Confirm(tc.yes, "do it")
		} else {
			err = p.ConfirmTyped(tc.yes, "do it", tc.word)
		}
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v, want ok %v", tc.name, err, tc.ok)
		}
		if asked := out.Len() > 0; asked != (tc.terminal && !tc.yes) {
			t.Errorf("%s: asked %q", tc.name, out.String())
		}
	}
}
