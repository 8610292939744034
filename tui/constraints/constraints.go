// Package constraints is the constraint-performance panel: one metric of
// the real_time_constraint_performance view per table over time (the
// service's throughput and insert speed, hmperf's own rows/s, overhead,
// ms per 1,000 rows or failures; m cycles), with the rows beneath in a
// table.
package constraints

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/NimbleMarkets/ntcharts/barchart"
	"github.com/NimbleMarkets/ntcharts/linechart/timeserieslinechart"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"hmperf/tui/datatable"
	"hmperf/tui/format"
	"hmperf/tui/source"
	"hmperf/tui/theme"
)

// maxBuckets bounds the chart's window: the time-series buffer grows without
// limit otherwise, and a day of hourly buckets is what a DBA looks at.
const maxBuckets = 48

// Metric is what the chart plots.
type Metric int

// The chart's metrics, in the order m cycles through them. The service's
// two speeds come first, kept apart and named as `hmperf monitor` names
// them: throughput (rows per second of wall time) and insert speed (rows
// per second while its statements ran). hmperf's own timed rows/s follow;
// overhead only benchmarks measure.
const (
	Throughput Metric = iota
	InsertSpeed
	RowsPerSec
	Overhead
	MsPer1000Rows
	Failures
	ValidationRejected
	metricCount
)

// String is the metric's name in the chart title.
func (m Metric) String() string {
	switch m {
	case InsertSpeed:
		return "Insert speed rows/s (while statements ran)"
	case RowsPerSec:
		return "hmperf rows/s (own timed writes)"
	case Overhead:
		return "Constraint overhead %"
	case MsPer1000Rows:
		return "ms per 1,000 rows (hmperf)"
	case Failures:
		return "Constraint failures"
	case ValidationRejected:
		return "Rejected by validation"
	}
	return "Throughput rows/s (wall time)"
}

// value is the metric of r, and false where r has none.
func (m Metric) value(r source.ConstraintRow) (float64, bool) {
	switch m {
	case InsertSpeed:
		return measured(r.InsertSpeed)
	case RowsPerSec:
		return measured(r.RowsPerSec)
	case Overhead:
		return measured(r.OverheadPct)
	case MsPer1000Rows:
		return measured(r.MsPer1000Rows)
	case Failures:
		return count(r.Failures)
	case ValidationRejected:
		return count(r.ValidationRejected)
	}
	return measured(r.Throughput)
}

// format renders a value of the metric.
func (m Metric) format(v float64) string {
	switch m {
	case Overhead:
		return format.Pct(v)
	case MsPer1000Rows:
		return format.Float(v, 1)
	case Failures, ValidationRejected:
		return format.Int(int64(v))
	}
	return speed(v)
}

// measured is a nullable figure as a chart value, absent where not measured.
func measured(p *float64) (float64, bool) {
	if p == nil {
		return 0, false
	}
	return *p, true
}

// count is a nullable count as a chart value, absent where not observed.
func count(p *int64) (float64, bool) {
	if p == nil {
		return 0, false
	}
	return float64(*p), true
}

// Model is the constraints panel.
type Model struct {
	keys   keyMap
	st     theme.Styles
	metric Metric
	rows   []source.ConstraintRow
	tables []string // series names, sorted
	chart  timeserieslinechart.Model
	// chartView is the chart rendered once per redraw: the canvas styles
	// every cell, too slow to repeat on every frame.
	chartView string
	table     datatable.Model
	w, h      int
}

// New returns an empty constraints panel.
func New(st theme.Styles) Model {
	m := Model{st: st, table: datatable.New(columns(), st.Table)}
	m.keys = newKeyMap()
	m.SetSize(80, 20)
	return m
}

// columns are the table's columns. At 80 cells the service's figures and
// the failures stay; hmperf's own rows and timings and the overhead
// (benchmarks only) give way first. The rows shown first are the
// service's alone (sampled, hmperf's own taken out), so hmperf's ingest and
// benchmarks never read as the service's traffic.
func columns() []datatable.Column {
	return []datatable.Column{
		{Title: "Table", Width: 14, Flex: true},
		{Title: "Hour", Width: 11},
		{Title: "Service rows", Width: 12},
		{Title: "Throughput", Width: 10},
		{Title: "Insert speed", Width: 12},
		{Title: "Overhead", Width: 8, Optional: true},
		{Title: "Fails", Width: 5},
		{Title: "hmperf r/s", Width: 10, Optional: true},
		{Title: "ms/1k", Width: 6, Optional: true},
		{Title: "hmperf rows", Width: 11, Optional: true},
		{Title: "Rolled back", Width: 11, Optional: true},
		{Title: "Invalid", Width: 7, Optional: true},
	}
}

// SetData shows new rows.
func (m *Model) SetData(rows []source.ConstraintRow) {
	rows = window(rows)
	// Most polls bring the rows already shown (they change once a sample
	// adds to the hour): redrawing the chart for nothing was most of the
	// CPU of a dashboard idle on this panel.
	if reflect.DeepEqual(rows, m.rows) && m.chartView != "" {
		return
	}
	m.rows = rows
	m.tables = tableNames(m.rows)
	m.table.SetRows(tableRows(m.rows))
	m.redraw()
}

// window keeps the rows of the latest maxBuckets hour buckets, oldest first.
func window(rows []source.ConstraintRow) []source.ConstraintRow {
	out := append([]source.ConstraintRow(nil), rows...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].HourBucket.Before(out[j].HourBucket) })
	if len(out) == 0 {
		return out
	}
	cut := out[len(out)-1].HourBucket.Add(-time.Duration(maxBuckets-1) * time.Hour)
	i := sort.Search(len(out), func(i int) bool { return !out[i].HourBucket.Before(cut) })
	return out[i:]
}

func tableNames(rows []source.ConstraintRow) []string {
	seen := map[string]bool{}
	var names []string
	for _, r := range rows {
		if !seen[r.Table] {
			seen[r.Table] = true
			names = append(names, r.Table)
		}
	}
	sort.Strings(names)
	return names
}

// tableRows lists the newest rows first: that is what the table is read for.
func tableRows(rows []source.ConstraintRow) [][]string {
	out := make([][]string, 0, len(rows))
	for i := len(rows) - 1; i >= 0; i-- {
		r := rows[i]
		out = append(out, []string{
			r.Table, format.Stamp(r.HourBucket), optCount(r.ObservedRows), optRate(r.Throughput), optRate(r.InsertSpeed),
			overhead(r.OverheadPct), failures(r), optRate(r.RowsPerSec), optFloat(r.MsPer1000Rows),
			format.Int(hmperfRows(r)), optCount(r.RolledBackRows), optCount(r.ValidationRejected),
		})
	}
	return out
}

// optRate renders a nullable speed, "n/a" where nothing measured it.
func optRate(p *float64) string {
	if p == nil {
		return NotObservable
	}
	return speed(*p)
}

// speed renders rows per second: whole rows, with a decimal below 100,
// where a service writing a few thousand rows an hour would round to 1.
func speed(v float64) string {
	if v < 100 {
		return format.Float(v, 1)
	}
	return format.Rate(v)
}

// optFloat renders a nullable figure with one decimal, "n/a" when nil.
func optFloat(p *float64) string {
	if p == nil {
		return NotObservable
	}
	return format.Float(*p, 1)
}

// NotObservable marks a count that could not be observed: never 0.
const NotObservable = "n/a"

// failures renders the constraint failures of r: "n/a" where no sample
// could count them, "≥n" where only some could.
func failures(r source.ConstraintRow) string {
	switch {
	case r.Failures == nil:
		return NotObservable
	case r.FailuresUnobserved > 0:
		return "≥" + format.Int(*r.Failures)
	}
	return format.Int(*r.Failures)
}

// optCount renders a nullable count, "n/a" when it is nil.
// hmperfRows are the rows of an hour that hmperf itself wrote and timed
// (its ingest batches and benchmarks): all the hour's rows but the
// service's.
func hmperfRows(r source.ConstraintRow) int64 {
	if r.ObservedRows == nil {
		return r.Rows
	}
	return r.Rows - *r.ObservedRows
}

func optCount(p *int64) string {
	if p == nil {
		return NotObservable
	}
	return format.Int(*p)
}

// overhead renders an overhead, or a dash where nothing measured one.
func overhead(p *float64) string {
	if p == nil {
		return "–"
	}
	return format.Pct(*p)
}

// Metric returns what the chart plots.
func (m *Model) Metric() Metric { return m.metric }

// NextMetric makes the chart plot the next metric.
func (m *Model) NextMetric() {
	m.metric = (m.metric + 1) % metricCount
	m.redraw()
}

// SetSize fits the panel into w×h cells: the chart takes about half the
// height, the table the rest.
func (m *Model) SetSize(w, h int) {
	m.w, m.h = max(w, 1), max(h, 1)
	m.table.SetSize(m.w, max(m.h-m.chartHeight()-2, 2))
	m.redraw()
}

func (m *Model) chartHeight() int { return max(m.h/2, 5) }

// redraw rebuilds the chart from the rows. The time range comes from the
// data, never from the clock, so the same rows always draw the same chart.
// A single hour bucket (the first hour after the monitor starts) makes no
// line, so it is drawn as one bar per table instead.
func (m *Model) redraw() {
	if m.singleHour() {
		m.chartView = m.hourBars()
		return
	}
	lo, hi, top := m.ranges()
	m.chart = timeserieslinechart.New(m.w, m.chartHeight(),
		timeserieslinechart.WithTimeRange(lo, hi),
		timeserieslinechart.WithYRange(0, top),
		timeserieslinechart.WithXLabelFormatter(hourLabel(lo.Location())),
		timeserieslinechart.WithAxesStyles(m.st.Muted, m.st.Muted),
	)
	for i, name := range m.tables {
		m.chart.SetDataSetStyle(name, m.st.SeriesStyle(i))
	}
	for _, r := range m.rows {
		if v, ok := m.metric.value(r); ok {
			m.chart.PushDataSet(r.Table, timeserieslinechart.TimePoint{Time: r.HourBucket, Value: v})
		}
	}
	m.chart.DrawAll()
	m.chartView = m.chart.View()
}

// singleHour reports whether every row falls in the same hour bucket.
func (m *Model) singleHour() bool {
	return len(m.rows) > 0 && m.rows[0].HourBucket.Equal(m.rows[len(m.rows)-1].HourBucket)
}

// hourBars draws the metric of each table in the only hour there is, each
// bar labelled with its value so that it reads without the table.
func (m *Model) hourBars() string {
	var data []barchart.BarData
	for i, name := range m.tables {
		for _, r := range m.rows {
			v, ok := m.metric.value(r)
			if r.Table != name || !ok {
				continue
			}
			data = append(data, barchart.BarData{
				Label:  fmt.Sprintf("%-*s %10s ", min(m.labelWidth(), 34), format.Truncate(name, 34), m.metric.format(v)),
				Values: []barchart.BarValue{{Name: name, Value: v, Style: m.st.SeriesStyle(i)}},
			})
		}
	}
	h := min(m.chartHeight(), max(len(data), 1))
	chart := barchart.New(m.w, h, barchart.WithHorizontalBars(), barchart.WithBarGap(0),
		barchart.WithStyles(m.st.Muted, m.st.Muted), barchart.WithDataSet(data))
	// Resize recomputes the label margin, which New worked out before the
	// labels were pushed.
	chart.Resize(m.w, h)
	chart.Draw()
	return m.st.Muted.Render("hour "+format.Stamp(m.rows[0].HourBucket)+" (a line needs two hours)") + "\n" + chart.View()
}

// labelWidth is the width of the longest table name.
func (m *Model) labelWidth() int {
	w := 0
	for _, name := range m.tables {
		w = max(w, len(name))
	}
	return w
}

// ranges returns the time range and the top of the value axis of the rows:
// 10% above the largest value, at least 10 for overhead (a percentage) and
// at least 1 otherwise, so that an all-zero series still draws.
func (m *Model) ranges() (lo, hi time.Time, top float64) {
	if len(m.rows) == 0 {
		epoch := time.Unix(0, 0).UTC()
		return epoch, epoch.Add(time.Hour), 100
	}
	lo, hi = m.rows[0].HourBucket, m.rows[len(m.rows)-1].HourBucket
	if !hi.After(lo) {
		hi = lo.Add(time.Hour)
	}
	top = 1
	if m.metric == Overhead {
		top = 10
	}
	for _, r := range m.rows {
		if v, ok := m.metric.value(r); ok {
			top = max(top, v*1.1)
		}
	}
	return lo, hi, top
}

func hourLabel(loc *time.Location) func(int, float64) string {
	return func(_ int, v float64) string {
		return time.Unix(int64(v), 0).In(loc).Format("15:04")
	}
}

// Update moves the table cursor.
func (m *Model) Update(msg tea.Msg) tea.Cmd { return m.table.Update(msg) }

// Table returns the panel's table for filtering and export.
func (m *Model) Table() *datatable.Model { return &m.table }

// View renders the panel.
func (m *Model) View() string {
	var legend []string
	for i, name := range m.tables {
		legend = append(legend, m.st.SeriesStyle(i).Render("── "+name))
	}
	title := m.st.Title.Render(m.metric.String()+" per table, hourly") + m.st.Muted.Render(" (m: next metric)")
	if len(m.rows) == 0 {
		return title + "\n" + m.st.Muted.Render("no constraint performance rows yet")
	}
	chart := m.chartView
	if !m.anyValue() {
		chart = lipgloss.Place(m.w, m.chartHeight(), lipgloss.Center, lipgloss.Center,
			m.st.Muted.Width(max(m.w-4, 10)).Align(lipgloss.Center).Render(m.nothingMeasured()))
	}
	// The legend is cut at the panel's edge, not wrapped: the chart's
	// height is fixed, and its colours name the series too.
	head := ansi.Truncate(title+"  "+strings.Join(legend, "  "), m.w, "…")
	return head + "\n" + chart + "\n" + m.table.View()
}

// nothingMeasured says why the chart's metric has no value in any row.
func (m *Model) nothingMeasured() string {
	switch m.metric {
	case Failures:
		return "constraint failures not observable in these hours: PostgreSQL counts no refused rows of other clients (n/a)"
	case ValidationRejected:
		return "no records validated in these hours: only hmperf's ingest validates (n/a)"
	case Throughput:
		return "throughput not measured in these hours: no sample of the service's writes (n/a; the dashboard samples unless --read-only, or run hmperf monitor)"
	case InsertSpeed:
		return "insert speed not measured in these hours: it needs pg_stat_statements (n/a)"
	case RowsPerSec, MsPer1000Rows:
		return fmt.Sprintf("no %s in these hours: hmperf timed no ingest batch or benchmark (n/a)", m.metric)
	}
	return fmt.Sprintf("no %s measured in these hours: benchmarks measure overhead, ingest batches do not", m.metric)
}

// anyValue reports whether some row has a value of the chart's metric.
func (m *Model) anyValue() bool {
	for _, r := range m.rows {
		if _, ok := m.metric.value(r); ok {
			return true
		}
	}
	return false
}
