package tui

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
)

// openFilter focuses the filter input with the current panel's filter.
func (m *Model) openFilter() {
	t := m.panel(m.active).Table()
	if t == nil {
		return
	}
	m.filter.SetValue(t.Filter())
	m.filter.Focus()
	m.filtering = true
}

// filterKey edits the filter, which applies as it is typed: enter keeps it,
// esc clears it.
func (m *Model) filterKey(msg tea.KeyMsg) tea.Cmd {
	t := m.panel(m.active).Table()
	switch msg.Type {
	case tea.KeyEnter:
		m.filtering = false
		m.filter.Blur()
		return nil
	case tea.KeyEsc:
		m.filtering = false
		m.filter.Blur()
		m.filter.SetValue("")
	default:
		m.filter, _ = m.filter.Update(msg)
	}
	if t != nil {
		t.SetFilter(m.filter.Value())
	}
	return nil
}

// exportedMsg reports the end of a CSV export.
type exportedMsg struct {
	path string
	rows int
	err  error
}

// export writes the current panel's table, as filtered, to a CSV file in
// the export directory. The CSV is built here; only the file write runs in
// the command.
func (m *Model) export() tea.Cmd {
	t := m.panel(m.active).Table()
	if t == nil {
		return nil
	}
	var buf bytes.Buffer
	rows, err := t.WriteCSV(&buf)
	if err != nil {
		m.status = "export failed: " + err.Error()
		return nil
	}
	name := fmt.Sprintf("hmperf-%s-%s.csv", strings.ToLower(m.title(m.active)),
		m.opts.Clock().Format("20060102-150405"))
	path := filepath.Join(m.opts.ExportDir, name)
	data := buf.Bytes()
	return func() tea.Msg {
		return exportedMsg{path: path, rows: rows, err: os.WriteFile(path, data, 0o644)}
	}
}

func (m *Model) handleExported(msg exportedMsg) {
	if msg.err != nil {
		m.status = "export failed: " + msg.err.Error()
		return
	}
	m.status = fmt.Sprintf("exported %d rows to %s", msg.rows, msg.path)
}
