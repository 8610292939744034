package constraints

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"

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
	m.SetSize(100, 30) // draws again (the same rows alone do not)
	if m.View() != first {
		t.Fatal("the chart changed with the wall clock")
	}
}

// TestNewRowsRedraw: rows that differ from those shown in one value are
// drawn, though most polls bring the same rows and draw nothing.
func TestNewRowsRedraw(t *testing.T) {
	m := New(theme.NewStyles(theme.Default()))
	m.SetSize(100, 30)
	m.SetData(hourly(30))
	first := m.View()
	changed := hourly(30)
	changed[29].OverheadPct = ptr(99.0)
	m.SetData(changed)
	if m.View() == first {
		t.Fatal("a changed overhead left the panel as it was")
	}
	m.SetData(hourly(30))
	if m.View() != first {
		t.Fatal("the first rows again do not draw the first panel")
	}
}

func ptr[T any](v T) *T { return &v }

// TestMetrics: m cycles through every metric and back; each one's title
// shows; a row without a measured overhead reads "–", is left out of the
// overhead chart, and a chart with no value at all says why.
func TestMetrics(t *testing.T) {
	t0 := time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)
	ingestOnly := []source.ConstraintRow{
		{Table: "heart_rate_metrics", HourBucket: t0, Rows: 5000, RowsPerSec: ptr(120000.0), MsPer1000Rows: ptr(8.3), Failures: ptr(int64(2)),
			ValidationRejected: ptr(int64(40))},
		{Table: "heart_rate_metrics", HourBucket: t0.Add(time.Hour), Rows: 7000, RowsPerSec: ptr(110000.0), MsPer1000Rows: ptr(9.1)},
	}
	m := New(theme.NewStyles(theme.Default()))
	m.SetSize(100, 30)
	m.SetData(ingestOnly)
	tests := []struct {
		metric Metric
		title  string
		empty  string // the empty-chart note, "" when the chart draws
	}{
		{Throughput, "Throughput rows/s (wall time) per table", "throughput not measured"},
		{InsertSpeed, "Insert speed rows/s (while statements ran) per table", "needs pg_stat_statements"},
		{RowsPerSec, "hmperf rows/s (own timed writes) per table", ""},
		{Overhead, "Constraint overhead % per table", "no Constraint overhead % measured"},
		{MsPer1000Rows, "ms per 1,000 rows (hmperf) per table", ""},
		{Failures, "Constraint failures per table", ""},
		{ValidationRejected, "Rejected by validation per table", ""},
		{Throughput, "Throughput rows/s (wall time) per table", "throughput not measured"},
	}
	notes := []string{"throughput not measured", "needs pg_stat_statements", "no Constraint overhead % measured"}
	for i, tt := range tests {
		if i > 0 {
			m.NextMetric()
		}
		v := m.View()
		if m.Metric() != tt.metric || !strings.Contains(v, tt.title) {
			t.Fatalf("step %d: metric %v, want %v titled %q:\n%s", i, m.Metric(), tt.metric, tt.title, v)
		}
		for _, note := range notes {
			if got, want := strings.Contains(v, note), note == tt.empty; got != want {
				t.Errorf("%v: note %q shown %v, want %v:\n%s", tt.metric, note, got, want, v)
			}
		}
		if strings.Contains(v, "0.0%") || !strings.Contains(v, "–") {
			t.Errorf("%v: an unmeasured overhead is shown as 0.0%%:\n%s", tt.metric, v)
		}
	}
}

// TestSpeedsApart: the service's throughput and insert speed and hmperf's
// own rows/s are three columns, named so; each reads "n/a" where nothing
// measured it, never 0; at 80 cells the service's speeds stay on screen.
func TestSpeedsApart(t *testing.T) {
	t0 := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	rows := []source.ConstraintRow{
		// The service's plain INSERT ... SELECT, with pg_stat_statements.
		{Table: "activity_metrics_v2", HourBucket: t0, Rows: 5000, ObservedRows: ptr(int64(5000)), RolledBackRows: ptr(int64(0)),
			Throughput: ptr(1.4), InsertSpeed: ptr(61234.0)},
		// hmperf's own ingest only: nothing sampled.
		{Table: "heart_rate_metrics", HourBucket: t0, Rows: 900, RowsPerSec: ptr(43210.0), MsPer1000Rows: ptr(23.1)},
	}
	want := map[string]map[string]string{
		"activity_metrics_v2": {"Service rows": "5,000", "Throughput": "1.4", "Insert speed": "61,234", "hmperf r/s": "n/a",
			"ms/1k": "n/a", "hmperf rows": "0", "Rolled back": "0", "Overhead": "–"},
		"heart_rate_metrics": {"Service rows": "n/a", "Throughput": "n/a", "Insert speed": "n/a", "hmperf r/s": "43,210",
			"ms/1k": "23.1", "hmperf rows": "900", "Rolled back": "n/a"},
	}
	m := New(theme.NewStyles(theme.Default()))
	m.SetSize(160, 30)
	m.SetData(rows)
	got := exported(t, &m)
	for _, r := range got {
		for col, w := range want[r["Table"]] {
			if r[col] != w {
				t.Errorf("%s %s = %q, want %q", r["Table"], col, r[col], w)
			}
		}
	}
	for _, tt := range []struct {
		width int
		shown []string
	}{
		{80, []string{"Service rows", "Throughput", "Insert speed", "Fails", "activity_metrics_v2", "61,234"}},
		{160, []string{"Service rows", "Throughput", "Insert speed", "hmperf r/s", "hmperf rows", "Overhead", "Rolled back", "43,210"}},
	} {
		m.SetSize(tt.width, 24)
		v := m.View()
		for _, s := range tt.shown {
			if !strings.Contains(v, s) {
				t.Errorf("%d wide: %q not shown:\n%s", tt.width, s, v)
			}
		}
		for i, line := range strings.Split(v, "\n") {
			if w := lipgloss.Width(line); w > tt.width {
				t.Errorf("%d wide: line %d is %d cells: %q", tt.width, i, w, line)
			}
		}
	}
}

// exported is the panel's table as exported, one map per row by title.
func exported(t *testing.T, m *Model) []map[string]string {
	t.Helper()
	var buf bytes.Buffer
	if _, err := m.Table().WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(recs) == 0 {
		t.Fatalf("exported %v, %v", recs, err)
	}
	out := make([]map[string]string, 0, len(recs)-1)
	for _, rec := range recs[1:] {
		row := map[string]string{}
		for i, title := range recs[0] {
			row[title] = rec[i]
		}
		out = append(out, row)
	}
	return out
}

// TestSingleHourDrawsBars: one hour bucket makes no line; each table gets a
// bar labelled with its value instead, and a second hour brings the line.
func TestSingleHourDrawsBars(t *testing.T) {
	t0 := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	rows := []source.ConstraintRow{
		{Table: "heart_rate_metrics", HourBucket: t0, Throughput: ptr(49318.0)},
		{Table: "symptoms", HourBucket: t0, Throughput: ptr(35624.0)},
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
	m.SetData(append(rows, source.ConstraintRow{Table: "symptoms", HourBucket: t0.Add(time.Hour), Throughput: ptr(30000.0)}))
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
		{Table: "activity_metrics_v2", HourBucket: t0, Rows: 5000, Throughput: ptr(1000.0)},
		{Table: "activity_metrics_v2", HourBucket: t0.Add(time.Hour), Rows: 7000, Throughput: ptr(1100.0),
			Failures: ptr(int64(2)), FailuresUnobserved: 1},
	}
	m := New(theme.NewStyles(theme.Default()))
	m.SetSize(100, 30)
	m.SetData(rows)
	got := exported(t, &m)
	if len(got) != 2 {
		t.Fatalf("exported %d rows, want 2", len(got))
	}
	for i, want := range [][2]string{{"≥2", "n/a"}, {"n/a", "n/a"}} {
		if got[i]["Fails"] != want[0] || got[i]["Invalid"] != want[1] {
			t.Errorf("row %d: failures %q, invalid %q; want %q, %q", i, got[i]["Fails"], got[i]["Invalid"], want[0], want[1])
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
