package benchmarks

import (
	"testing"

	"hmperf/tui/theme"
)

func TestSelectWraps(t *testing.T) {
	m := New(theme.NewStyles(theme.Default()))
	if m.Selected() != All {
		t.Fatalf("first choice %q, want %q", m.Selected(), All)
	}
	m.Select(-1)
	if m.Selected() != "activity" {
		t.Fatalf("left from all = %q, want activity", m.Selected())
	}
	m.Select(+2)
	if m.Selected() != "nutrition" {
		t.Fatalf("two right from activity = %q, want nutrition", m.Selected())
	}
}
