// Package ingest is the ingest panel: recent batches with their accounting,
// rejects by reason and the validation cache hit rate.
package ingest

import (
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"hmperf/tui/datatable"
	"hmperf/tui/format"
	"hmperf/tui/source"
	"hmperf/tui/theme"
)

// wideAt is the width from which the totals and the rejects sit side by side.
const wideAt = 100

// totalsLines is the height of the totals.
const totalsLines = 5

// maxFailureLines bounds the error of a dead sample ingest on screen.
const maxFailureLines = 3

// maxReasons is how many reject reasons are listed.
const maxReasons = 5

// Model is the ingest panel.
type Model struct {
	keys    keyMap
	st      theme.Styles
	data    source.IngestStats
	running bool
	table   datatable.Model
	w, h    int
}

// New returns an empty ingest panel.
func New(st theme.Styles) Model {
	m := Model{st: st, table: datatable.New(columns(), st.Table)}
	m.keys = newKeyMap()
	m.SetSize(80, 20)
	return m
}

func columns() []datatable.Column {
	return []datatable.Column{
		{Title: "When", Width: 11},
		{Title: "Table", Width: 14, Flex: true},
		{Title: "Received", Width: 8, Optional: true},
		{Title: "Inserted", Width: 8},
		{Title: "Dups", Width: 6},
		{Title: "Invalid", Width: 7},
		{Title: "Refused", Width: 7},
		{Title: "Rejected", Width: 8, Optional: true},
		{Title: "Unsupp", Width: 6, Optional: true},
		{Title: "Rows/s", Width: 8},
	}
}

// SetRunning says whether the sample ingest started from the dashboard runs.
func (m *Model) SetRunning(running bool) {
	m.running = running
	m.SetSize(m.w, m.h) // the error of a dead ingest shows only while stopped
}

// Target is where the sample ingest writes, as the last poll said.
func (m *Model) Target() source.WriteTarget { return m.data.SampleTarget }

// SetData shows new ingest statistics, with where the sample ingest writes
// and, when it ended on an error, that error.
func (m *Model) SetData(d source.IngestStats) {
	m.data = d
	rows := make([][]string, len(d.Batches))
	for i, b := range d.Batches {
		rows[i] = []string{format.Stamp(b.At), b.Table, format.Int(b.Received), format.Int(b.Inserted),
			format.Int(b.Duplicates), optCount(b.ValidationRejected), optCount(b.ConstraintFailures),
			format.Int(b.Rejected), format.Int(b.Unsupported), format.Rate(b.RowsPerSec)}
	}
	m.table.SetRows(rows)
	m.SetSize(m.w, m.h)
}

// topLines is the height of the head, the totals (and, when narrow, the
// rejects).
func (m *Model) topLines() int {
	head := lipgloss.Height(m.headView())
	reasons := max(min(len(m.data.Rejects), maxReasons), 1) + 1
	if m.w >= wideAt {
		return head + max(reasons, totalsLines)
	}
	return head + totalsLines + reasons
}

// SetSize fits the panel into w×h cells.
func (m *Model) SetSize(w, h int) {
	m.w, m.h = max(w, 1), max(h, 1)
	m.table.SetSize(m.w, max(m.h-m.topLines()-2, 2))
}

// Update moves the table cursor.
func (m *Model) Update(msg tea.Msg) tea.Cmd { return m.table.Update(msg) }

// Table returns the batch table for filtering and export.
func (m *Model) Table() *datatable.Model { return &m.table }

// View renders the panel.
func (m *Model) View() string {
	totals, rejects := m.totalsView(), m.rejectsView()
	top := totals + "\n" + rejects
	if m.w >= wideAt {
		top = lipgloss.JoinHorizontal(lipgloss.Top, lipgloss.NewStyle().Width(m.w/2).Render(totals), rejects)
	}
	return m.headView() + "\n" + top + "\n" + m.st.Title.Render("Recent batches") + "\n" + m.table.View()
}

// headView is the sample ingest's state, where it writes, and the error
// that ended it, if one did.
func (m *Model) headView() string {
	state := m.st.Muted.Render("sample ingest stopped (i starts one)")
	target := "i writes generated rows to " + m.data.SampleTarget.String()
	if m.running {
		state = m.st.OK.Render("sample ingest RUNNING (i stops it)")
		target = "writing generated rows to " + m.data.SampleTarget.String()
	}
	lines := []string{
		m.st.Title.Render("Ingest") + "  " + state,
		ansi.Truncate(target, m.w, "…"),
	}
	if f := m.data.SampleFailed; f != "" && !m.running {
		wrapped := strings.Split(ansi.Wordwrap("✗ sample ingest STOPPED on an error: "+f, m.w, " "), "\n")
		if len(wrapped) > maxFailureLines {
			wrapped = wrapped[:maxFailureLines]
			wrapped[maxFailureLines-1] = ansi.Truncate(wrapped[maxFailureLines-1]+" …", m.w, "…")
		}
		lines = append(lines, m.st.Crit.Render(strings.Join(wrapped, "\n")))
	}
	return strings.Join(lines, "\n")
}

func (m *Model) totalsView() string {
	var rows, dups, rejected, received int64
	var invalid, refused partCount
	for _, b := range m.data.Batches {
		received += b.Received
		rows += b.Inserted
		dups += b.Duplicates
		rejected += b.Rejected
		invalid.add(b.ValidationRejected)
		refused.add(b.ConstraintFailures)
	}
	latest := "-"
	if len(m.data.Batches) > 0 {
		latest = format.Rate(m.data.Batches[0].RowsPerSec) + " rows/s"
	}
	lines := []string{
		fmt.Sprintf("latest     %s", latest),
		fmt.Sprintf("inserted   %s of %s received", format.Int(rows), format.Int(received)),
		fmt.Sprintf("duplicates %s   rejected %s", format.Int(dups), format.Int(rejected)),
		fmt.Sprintf("  by validation %s, refused by constraints %s", invalid, refused),
		"cache      " + m.cacheLine(),
	}
	return strings.Join(lines, "\n")
}

// notObservable marks a count that was not kept: never shown as 0.
const notObservable = "n/a"

// optCount renders a nullable count.
func optCount(p *int64) string {
	if p == nil {
		return notObservable
	}
	return format.Int(*p)
}

// partCount sums a nullable count over batches: n/a when no batch had it,
// a lower bound ("≥n") when only some had.
type partCount struct {
	sum          int64
	seen, missed bool
}

func (c *partCount) add(p *int64) {
	if p == nil {
		c.missed = true
		return
	}
	c.seen = true
	c.sum += *p
}

func (c partCount) String() string {
	switch {
	case !c.seen:
		return notObservable
	case c.missed:
		return "≥" + format.Int(c.sum)
	}
	return format.Int(c.sum)
}

func (m *Model) cacheLine() string {
	hits, misses := m.data.CacheHits, m.data.CacheMisses
	if hits+misses == 0 {
		return m.st.Muted.Render("no lookups")
	}
	rate := 100 * float64(hits) / float64(hits+misses)
	return fmt.Sprintf("hit rate %s (%s hits, %s misses)", format.Pct(rate), format.Int(hits), format.Int(misses))
}

func (m *Model) rejectsView() string {
	lines := []string{m.st.Title.Render("Rejects by reason")}
	if len(m.data.Rejects) == 0 {
		return lines[0] + "\n" + m.st.Muted.Render("none")
	}
	for _, r := range m.data.Rejects[:min(len(m.data.Rejects), maxReasons)] {
		lines = append(lines, fmt.Sprintf("%9s  %s", format.Int(r.Count), format.Truncate(r.Reason, max(m.w/2-12, 10))))
	}
	return strings.Join(lines, "\n")
}
