package theme

import (
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
)

func TestBarWidthAndClamp(t *testing.T) {
	st := NewStyles(Default())
	tests := []struct {
		fraction float64
		pct      string
	}{
		{-1, "0%"}, {0, "0%"}, {0.5, "50%"}, {1, "100%"}, {2, "100%"},
	}
	for _, tt := range tests {
		b := st.Bar(20, tt.fraction)
		if lipgloss.Width(b) != 20 || !strings.HasSuffix(b, " "+tt.pct) {
			t.Errorf("Bar(20, %v) = %q (%d wide), want 20 wide ending in %s", tt.fraction, b, lipgloss.Width(b), tt.pct)
		}
	}
	if b := st.Bar(20, 1); strings.Contains(b, "░") {
		t.Errorf("full bar has empty cells: %q", b)
	}
}
