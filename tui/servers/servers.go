// Package servers is the Servers panel: every server of a primary and its
// replicas side by side, and the state of each (up, STALE since, DOWN
// since) that the header shows too.
package servers

import (
	"fmt"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"hmperf/tui/datatable"
	"hmperf/tui/format"
	"hmperf/tui/pane"
	"hmperf/tui/source"
	"hmperf/tui/theme"
)

// State is what the dashboard knows of a server's health.
type State int

// The states. A server is STALE from the first poll that cannot read it
// (its figures are those of the last poll that could) and DOWN from the
// second in a row, so a server that stops answering is DOWN within two
// refresh intervals while one lost poll does not call it down.
const (
	Unknown State = iota // not polled yet
	Up
	Stale
	Down
)

// downAfter is the number of failed polls in a row that makes a server DOWN.
const downAfter = 2

// Tracked is one server with its state: the figures of the last poll that
// read it, the error of the latest poll, and since when it fails.
type Tracked struct {
	source.Server
	State    State
	Since    time.Time // first failure of the current run of failures
	failures int
}

// Label is the server's state in words: "up", "STALE 12:00:01",
// "DOWN 12:00:01" (the time is when it first failed), "?" before the first
// poll.
func (t Tracked) Label() string {
	switch t.State {
	case Up:
		return "up"
	case Stale:
		return "STALE " + format.Clock(t.Since)
	case Down:
		return "DOWN " + format.Clock(t.Since)
	}
	return "?"
}

// Label is server i's short name: its configured name when short, else
// its position ("#2"); the detail line under the table gives the full
// name.
func Label(i int, name string) string {
	if len([]rune(name)) <= 16 {
		return name
	}
	return fmt.Sprintf("#%d", i+1)
}

// Model is the Servers panel.
type Model struct {
	pane.NoKeys
	st    theme.Styles
	list  []Tracked
	shown int
	table datatable.Model
	w, h  int
}

// New returns the panel for the servers names names, in order.
func New(st theme.Styles, names []string) Model {
	m := Model{st: st, table: datatable.New(columns(), st.Table)}
	for _, n := range names {
		m.list = append(m.list, Tracked{Server: source.Server{Name: n}})
	}
	m.SetSize(80, 20)
	m.refresh()
	return m
}

func columns() []datatable.Column {
	return []datatable.Column{
		{Title: "Server", Width: 8, Flex: true},
		{Title: "Role", Width: 7},
		{Title: "State", Width: 14},
		{Title: "Lag", Width: 8},
		{Title: "Lag s", Width: 6},
		{Title: "TPS", Width: 5},
		{Title: "Ins/s", Width: 6},
		{Title: "Alerts", Width: 6},
		{Title: "Conns", Width: 5, Optional: true},
		{Title: "Version", Width: 7, Optional: true},
	}
}

// SetData merges one poll of every server, read at now. A server the poll
// could not read keeps its last figures and moves towards DOWN.
func (m *Model) SetData(list []source.Server, now time.Time) {
	for i, s := range list {
		if i >= len(m.list) {
			m.list = append(m.list, Tracked{Server: source.Server{Name: s.Name}})
		}
		m.list[i] = track(m.list[i], s, now)
	}
	m.refresh()
}

// track is t after a poll that read s.
func track(t Tracked, s source.Server, now time.Time) Tracked {
	if s.Err == "" {
		return Tracked{Server: s, State: Up}
	}
	t.Err = s.Err
	t.failures++
	if t.failures == 1 {
		t.Since = now
	}
	t.State = Stale
	if t.failures >= downAfter {
		t.State = Down
	}
	return t
}

// List returns every server with its state, in order.
func (m *Model) List() []Tracked { return m.list }

// SetShown marks server i as the one the other panels show.
func (m *Model) SetShown(i int) {
	m.shown = i
	m.refresh()
}

func (m *Model) refresh() {
	rows := make([][]string, len(m.list))
	for i, t := range m.list {
		name := "  " + Label(i, t.Name)
		if i == m.shown && len(m.list) > 1 {
			name = "▶ " + Label(i, t.Name)
		}
		rows[i] = row(t, name)
	}
	m.table.SetRows(rows)
}

// row is a server's table row. A STALE server keeps its last figures (the
// state says how old they are); a DOWN one shows none, and the alerts of
// either are not known now.
func row(t Tracked, name string) []string {
	if t.State == Down || t.Role == "" {
		return []string{name, orDash(t.Role), t.Label(), "-", "-", "-", "-", "?", "-", orDash(t.Version)}
	}
	al := alerts(t.Server)
	if t.State != Up {
		al = "?"
	}
	return []string{name, t.Role, t.Label(), bytes(t.LagBytes), seconds(t.LagSeconds), rate(t.TPS), rate(t.InsertsPerSec),
		al, fmt.Sprint(t.Connections), orDash(t.Version)}
}

// SetSize fits the panel into w×h cells.
func (m *Model) SetSize(w, h int) {
	m.w, m.h = max(w, 1), max(h, 1)
	m.table.SetSize(m.w, max(m.h-detailLines-2, 2))
}

// detailLines is the height kept under the table for the selected server.
const detailLines = 3

// Update moves the table cursor.
func (m *Model) Update(msg tea.Msg) tea.Cmd { return m.table.Update(msg) }

// Table returns the panel's table for filtering and export.
func (m *Model) Table() *datatable.Model { return &m.table }

// View renders the panel.
func (m *Model) View() string {
	return m.summary() + "\n" + m.colour(m.table.View()) + "\n" + m.detail()
}

func (m *Model) summary() string {
	var up, stale, down int
	for _, t := range m.list {
		switch t.State {
		case Up:
			up++
		case Stale:
			stale++
		case Down:
			down++
		}
	}
	return m.st.Title.Render("Servers") + fmt.Sprintf("  %d up, %d stale, %d down", up, stale, down)
}

// colour paints the state words after the table has cut its cells, because
// the table measures cells as plain text.
func (m *Model) colour(view string) string {
	lines := strings.Split(view, "\n")
	for i, l := range lines {
		switch {
		case strings.Contains(l, " DOWN "):
			lines[i] = m.st.Crit.Render(l)
		case strings.Contains(l, " STALE "):
			lines[i] = m.st.Warn.Render(l)
		}
	}
	return strings.Join(lines, "\n")
}

// detail says more of the server under the cursor: its full name, what
// its lag figures cover, and why it is not up.
func (m *Model) detail() string {
	t := m.Table()
	if t.Shown() == 0 || len(m.list) == 0 {
		return m.st.Muted.Render("no server matches the filter")
	}
	label := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(t.SelectedRow()[0]), "▶"))
	var s Tracked
	for i, c := range m.list {
		if Label(i, c.Name) == label {
			s = c
		}
	}
	text := s.Name
	if label != s.Name {
		text = label + " " + s.Name
	}
	switch s.Role {
	case "primary":
		text += fmt.Sprintf(": primary, %d %s streaming; lag is the worst of them and of any slot whose standby is gone. Writes go here.",
			s.Standbys, plural(s.Standbys, "standby", "standbys"))
	case "replica":
		text += ": replica; lag is the WAL it has yet to replay and the age of its last replayed commit. Read-only: hmperf writes nothing here."
	}
	if s.Err != "" {
		text += " Not read since " + format.Clock(s.Since) + ": " + s.Err
	}
	if s.AlertsUnknown != "" {
		text += " Alerts UNKNOWN: " + s.AlertsUnknown
	}
	return lipgloss.NewStyle().Width(m.w).MaxHeight(detailLines).Render(text)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// bytes renders a WAL distance: "0 B", "12.3 kB", "64.0 MB", "n/a".
func bytes(v *float64) string {
	if v == nil {
		return "n/a"
	}
	units := []string{"B", "kB", "MB", "GB", "TB"}
	x, u := *v, 0
	for x >= 1000 && u < len(units)-1 {
		x /= 1024
		u++
	}
	if u == 0 {
		return format.Float(x, 0) + " B"
	}
	return format.Float(x, 1) + " " + units[u]
}

func seconds(v *float64) string {
	if v == nil {
		return "n/a"
	}
	return format.Float(*v, 1) + "s"
}

func rate(v *float64) string {
	if v == nil {
		return "n/a"
	}
	return format.Rate(*v)
}

// alerts renders a server's firing alerts: "none", "2C 1W", "?" when they
// could not be checked.
func alerts(s source.Server) string {
	switch {
	case s.AlertsUnknown != "":
		return "?"
	case s.Critical == 0 && s.Warning == 0:
		return "none"
	}
	var parts []string
	if s.Critical > 0 {
		parts = append(parts, fmt.Sprintf("%dC", s.Critical))
	}
	if s.Warning > 0 {
		parts = append(parts, fmt.Sprintf("%dW", s.Warning))
	}
	return strings.Join(parts, " ")
}
