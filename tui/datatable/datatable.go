// Package datatable wraps a bubbles table with what every panel's table
// needs: column widths fitted to the panel, a substring filter, and CSV
// export of the rows on screen.
package datatable

import (
	"encoding/csv"
	"io"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/table"
	tea "github.com/charmbracelet/bubbletea"
)

// Column describes a column: its title, the width it needs, and whether it
// takes a share of the spare width.
type Column struct {
	Title string
	Width int
	Flex  bool
	// Optional columns are hidden, last first, when the table does not fit.
	// Export still writes them.
	Optional bool
}

// cellPadding is the horizontal padding the table styles put around a cell.
const cellPadding = 2

// Model is a filterable table. All rows are kept; the filter picks which are
// shown and exported.
type Model struct {
	table     table.Model
	cols      []Column
	shownCols []int // indexes of the columns on screen
	all       [][]string
	shown     [][]string
	filter    string
}

// New returns a table with the given columns and styles.
func New(cols []Column, styles table.Styles) Model {
	t := table.New(
		table.WithStyles(styles),
		table.WithKeyMap(navKeys()),
		table.WithFocused(true),
	)
	m := Model{table: t, cols: cols}
	m.SetSize(80, 5)
	return m
}

// navKeys keeps only arrow-style navigation: the table's default map also
// binds letters and space that the dashboard uses for its own actions.
func navKeys() table.KeyMap {
	return table.KeyMap{
		LineUp:     key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		LineDown:   key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:     key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "page up")),
		PageDown:   key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn", "page down")),
		GotoTop:    key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g/home", "top")),
		GotoBottom: key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G/end", "bottom")),
	}
}

// SetRows replaces all rows and reapplies the filter.
func (m *Model) SetRows(rows [][]string) {
	m.all = rows
	m.apply()
}

// SetFilter shows only rows with a cell containing s (case-insensitive).
func (m *Model) SetFilter(s string) {
	m.filter = s
	m.apply()
}

// Filter returns the current filter text.
func (m *Model) Filter() string { return m.filter }

// Shown returns how many rows pass the filter; Total how many there are.
func (m *Model) Shown() int { return len(m.shown) }

// Total returns how many rows there are before filtering.
func (m *Model) Total() int { return len(m.all) }

func (m *Model) apply() {
	needle := strings.ToLower(m.filter)
	m.shown = make([][]string, 0, len(m.all))
	for _, r := range m.all {
		if needle == "" || rowContains(r, needle) {
			m.shown = append(m.shown, r)
		}
	}
	m.table.SetRows(m.project())
	// The table leaves its cursor at -1 after it held no rows, and then
	// shows one row fewer than it has room for; whether rows or the first
	// size arrived first must not change the screen.
	m.table.SetCursor(min(max(m.table.Cursor(), 0), max(len(m.shown)-1, 0)))
}

func rowContains(r []string, needle string) bool {
	for _, c := range r {
		if strings.Contains(strings.ToLower(c), needle) {
			return true
		}
	}
	return false
}

// project cuts the shown rows down to the columns on screen.
func (m *Model) project() []table.Row {
	rows := make([]table.Row, len(m.shown))
	for i, r := range m.shown {
		row := make(table.Row, len(m.shownCols))
		for j, c := range m.shownCols {
			if c < len(r) {
				row[j] = r[c]
			}
		}
		rows[i] = row
	}
	return rows
}

// SetSize fits the columns into width w and the rows into height h (the
// header takes one line).
func (m *Model) SetSize(w, h int) {
	m.shownCols = visibleColumns(m.cols, w)
	cols := make([]Column, len(m.shownCols))
	for i, c := range m.shownCols {
		cols[i] = m.cols[c]
	}
	// Rows first: the table redraws with the new columns and must find
	// rows of the same width.
	m.table.SetRows(nil)
	m.table.SetColumns(fitColumns(cols, w))
	m.table.SetRows(m.project())
	m.table.SetCursor(max(m.table.Cursor(), 0))
	m.table.SetWidth(max(w, 1))
	m.table.SetHeight(max(h, 2))
}

// visibleColumns drops optional columns, from the right, until the rest
// fit into w.
func visibleColumns(cols []Column, w int) []int {
	need := 0
	for _, c := range cols {
		need += c.Width + cellPadding
	}
	drop := map[int]bool{}
	for i := len(cols) - 1; i >= 0 && need > w; i-- {
		if cols[i].Optional {
			drop[i] = true
			need -= cols[i].Width + cellPadding
		}
	}
	out := make([]int, 0, len(cols))
	for i := range cols {
		if !drop[i] {
			out = append(out, i)
		}
	}
	return out
}

// fitColumns hands the spare width to the flexible columns or, when the
// table does not fit, narrows the flexible columns first and then the others
// from the right.
func fitColumns(cols []Column, w int) []table.Column {
	out := make([]table.Column, len(cols))
	spare, flex := w, 0
	for i, c := range cols {
		out[i] = table.Column{Title: c.Title, Width: c.Width}
		spare -= c.Width + cellPadding
		if c.Flex {
			flex++
		}
	}
	if spare >= 0 {
		for i := range out {
			if cols[i].Flex {
				out[i].Width += spare / flex
			}
		}
		return out
	}
	for _, flexOnly := range []bool{true, false} {
		for i := len(out) - 1; i >= 0 && spare < 0; i-- {
			if flexOnly && !cols[i].Flex {
				continue
			}
			cut := min(-spare, out[i].Width-minColumn)
			if cut > 0 {
				out[i].Width -= cut
				spare += cut
			}
		}
	}
	return out
}

// minColumn is the narrowest a column gets when the table is squeezed.
const minColumn = 4

// Update moves the cursor.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	m.table, cmd = m.table.Update(msg)
	return cmd
}

// View renders the table.
func (m *Model) View() string { return m.table.View() }

// WriteCSV writes the header and the rows that pass the filter, and returns
// how many rows it wrote.
func (m *Model) WriteCSV(w io.Writer) (int, error) {
	cw := csv.NewWriter(w)
	head := make([]string, len(m.cols))
	for i, c := range m.cols {
		head[i] = c.Title
	}
	if err := cw.Write(head); err != nil {
		return 0, err
	}
	if err := cw.WriteAll(m.shown); err != nil {
		return 0, err
	}
	return len(m.shown), cw.Error()
}

// SelectedRow returns the row under the cursor, or nil when no row is shown.
func (m *Model) SelectedRow() []string {
	if len(m.shown) == 0 {
		return nil
	}
	return m.shown[min(max(m.table.Cursor(), 0), len(m.shown)-1)]
}
