package alerts

import (
	"testing"
	"time"

	"hmperf/tui/source"
)

func TestSortedCriticalFirstThenOldest(t *testing.T) {
	t0 := time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)
	in := []source.Alert{
		{Name: "w-new", Severity: source.Warning, FiringSince: t0},
		{Name: "c-new", Severity: source.Critical, FiringSince: t0},
		{Name: "w-old", Severity: source.Warning, FiringSince: t0.Add(-time.Hour)},
		{Name: "c-old", Severity: source.Critical, FiringSince: t0.Add(-time.Hour)},
	}
	got := Sorted(in)
	want := []string{"c-old", "c-new", "w-old", "w-new"}
	if len(got) != len(want) {
		t.Fatalf("Sorted returned %d alerts, want %d", len(got), len(want))
	}
	for i, a := range got {
		if a.Name != want[i] {
			t.Fatalf("order %d = %s, want %s", i, a.Name, want[i])
		}
	}
	if in[0].Name != "w-new" {
		t.Fatal("Sorted changed its input")
	}
}
