package constraints

import (
	"testing"
	"time"

	"hmperf/tui/source"
	"hmperf/tui/theme"
)

func hourly(n int) []source.ConstraintRow {
	t0 := time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)
	rows := make([]source.ConstraintRow, n)
	for i := range rows {
		rows[i] = source.ConstraintRow{Table: "t", HourBucket: t0.Add(time.Duration(i) * time.Hour), OverheadPct: float64(i % 40)}
	}
	return rows
}

func TestWindowKeepsTheLatestBuckets(t *testing.T) {
	got := window(hourly(100))
	if len(got) != maxBuckets {
		t.Fatalf("window kept %d rows, want %d", len(got), maxBuckets)
	}
	if !got[0].HourBucket.Equal(hourly(100)[100-maxBuckets].HourBucket) {
		t.Fatalf("window starts at %s", got[0].HourBucket)
	}
}

// TestChartDependsOnlyOnData draws the same rows twice, apart in time: the
// time axis comes from the data, so the frames are equal.
func TestChartDependsOnlyOnData(t *testing.T) {
	m := New(theme.NewStyles(theme.Default()))
	m.SetSize(100, 30)
	m.SetData(hourly(30))
	first := m.View()
	time.Sleep(1100 * time.Millisecond)
	m.SetData(hourly(30))
	if m.View() != first {
		t.Fatal("the chart changed with the wall clock")
	}
}
