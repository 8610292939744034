package constraints

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"hmperf/tui/source"
	"hmperf/tui/theme"
)

func hourly(n int) []source.ConstraintRow {
	t0 := time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)
	rows := make([]source.ConstraintRow, n)
	for i := range rows {
		rows[i] = source.ConstraintRow{Table: "t", HourBucket: t0.Add(time.Duration(i) * time.Hour), OverheadPct: ptr(float64(i % 40))}
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

func ptr[T any](v T) *T { return &v }

// TestMetrics: m cycles through every metric and back; each one's title
// shows; a row without a measured overhead reads "–", is left out of the
// overhead chart, and a chart with no value at all says why.
func TestMetrics(t *testing.T) {
	t0 := time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)
	ingestOnly := []source.ConstraintRow{
		{Table: "heart_rate_metrics", HourBucket: t0, Rows: 5000, RowsPerSec: 120000, MsPer1000Rows: 8.3, Failures: ptr(int64(2)),
			ValidationRejected: ptr(int64(40))},
		{Table: "heart_rate_metrics", HourBucket: t0.Add(time.Hour), Rows: 7000, RowsPerSec: 110000, MsPer1000Rows: 9.1},
	}
	m := New(theme.NewStyles(theme.Default()))
	m.SetSize(100, 30)
	m.SetData(ingestOnly)
	tests := []struct {
		metric Metric
		title  string
		empty  bool
	}{
		{RowsPerSec, "Rows/s per table", false},
		{Overhead, "Constraint overhead % per table", true},
		{MsPer1000Rows, "ms per 1,000 rows per table", false},
		{Failures, "Constraint failures per table", false},
		{ValidationRejected, "Rejected by validation per table", false},
		{RowsPerSec, "Rows/s per table", false},
	}
	for i, tt := range tests {
		if i > 0 {
			m.NextMetric()
		}
		v := m.View()
		if m.Metric() != tt.metric || !strings.Contains(v, tt.title) {
			t.Fatalf("step %d: metric %v, want %v titled %q:\n%s", i, m.Metric(), tt.metric, tt.title, v)
		}
		if got := strings.Contains(v, "no Constraint overhead % measured"); got != tt.empty {
			t.Errorf("%v: empty-chart note shown %v, want %v", tt.metric, got, tt.empty)
		}
		if strings.Contains(v, "0.0%") || !strings.Contains(v, "–") {
			t.Errorf("%v: an unmeasured overhead is shown as 0.0%%:\n%s", tt.metric, v)
		}
	}
}

// TestSingleHourDrawsBars: one hour bucket makes no line; each table gets a
// bar labelled with its value instead, and a second hour brings the line.
func TestSingleHourDrawsBars(t *testing.T) {
	t0 := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	rows := []source.ConstraintRow{
		{Table: "heart_rate_metrics", HourBucket: t0, RowsPerSec: 49318},
		{Table: "symptoms", HourBucket: t0, RowsPerSec: 35624},
	}
	m := New(theme.NewStyles(theme.Default()))
	m.SetSize(100, 30)
	m.SetData(rows)
	v := m.View()
	for _, want := range []string{"hour 03-14 09:00", "heart_rate_metrics     49,318 │", "symptoms               35,624 │", "█"} {
		if !strings.Contains(v, want) {
			t.Errorf("single-hour view lacks %q:\n%s", want, v)
		}
	}
	m.SetData(append(rows, source.ConstraintRow{Table: "symptoms", HourBucket: t0.Add(time.Hour), RowsPerSec: 30000}))
	if v := m.View(); strings.Contains(v, "a line needs two hours") {
		t.Errorf("two hours still drawn as bars:\n%s", v)
	}
}

// TestNotObservable: a count nobody could observe reads "n/a", never 0; a
// count only some samples observed is a lower bound; a chart of a metric no
// row observed says why instead of drawing zeros.
func TestNotObservable(t *testing.T) {
	t0 := time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)
	rows := []source.ConstraintRow{
		{Table: "activity_metrics_v2", HourBucket: t0, Rows: 5000, RowsPerSec: 1000},
		{Table: "activity_metrics_v2", HourBucket: t0.Add(time.Hour), Rows: 7000, RowsPerSec: 1100,
			Failures: ptr(int64(2)), FailuresUnobserved: 1},
	}
	m := New(theme.NewStyles(theme.Default()))
	m.SetSize(100, 30)
	m.SetData(rows)
	var buf bytes.Buffer
	if _, err := m.Table().WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	got, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(got) != 3 {
		t.Fatalf("exported %v, %v", got, err)
	}
	got = got[1:] // the header
	last := len(got[0]) - 1
	for i, want := range [][2]string{{"≥2", "n/a"}, {"n/a", "n/a"}} {
		if got[i][last-1] != want[0] || got[i][last] != want[1] {
			t.Errorf("row %d: failures %q, invalid %q; want %q, %q", i, got[i][last-1], got[i][last], want[0], want[1])
		}
	}
	m.SetData(rows[:1])
	for m.Metric() != Failures {
		m.NextMetric()
	}
	if v := m.View(); !strings.Contains(v, "not observable") {
		t.Errorf("a failures chart with nothing observed does not say so:\n%s", v)
	}
}
