package severity

import (
	"testing"

	"hmperf/tui/source"
)

// TestLabel: each severity reads the same without colour, and an unknown
// one is shown as it came, marked.
func TestLabel(t *testing.T) {
	for _, tt := range []struct {
		sev  source.Severity
		want string
	}{
		{source.Critical, "!! CRITICAL"},
		{source.Warning, "!  WARNING"},
		{"NOTICE", "?  NOTICE"},
	} {
		if got := Label(tt.sev); got != tt.want {
			t.Errorf("Label(%q) = %q, want %q", tt.sev, got, tt.want)
		}
	}
}
