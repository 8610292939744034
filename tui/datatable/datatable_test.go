package datatable

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/charmbracelet/bubbles/table"
)

func sample() Model {
	m := New([]Column{
		{Title: "Name", Width: 10, Flex: true},
		{Title: "Note", Width: 30, Optional: true},
		{Title: "N", Width: 3},
	}, table.DefaultStyles())
	m.SetRows([][]string{{"alpha", "first, with a comma", "1"}, {"beta", "second", "2"}, {"Gamma", "third", "3"}})
	return m
}

func TestFilterIsCaseInsensitiveOverAllCells(t *testing.T) {
	m := sample()
	m.SetFilter("GAM")
	if m.Shown() != 1 || m.SelectedRow()[0] != "Gamma" {
		t.Fatalf("filter GAM: shown %d, selected %v", m.Shown(), m.SelectedRow())
	}
	m.SetFilter("second")
	if m.Shown() != 1 || m.SelectedRow()[0] != "beta" {
		t.Fatalf("filter on a hidden-able column: shown %d", m.Shown())
	}
	m.SetFilter("nothing")
	if m.Shown() != 0 || m.SelectedRow() != nil {
		t.Fatal("filter with no match still shows rows")
	}
}

func TestOptionalColumnsHideWhenNarrow(t *testing.T) {
	m := sample()
	m.SetSize(30, 5)
	if strings.Contains(m.View(), "Note") {
		t.Fatalf("optional column shown at 30 columns:\n%s", m.View())
	}
	m.SetSize(80, 5)
	if !strings.Contains(m.View(), "Note") {
		t.Fatalf("optional column hidden at 80 columns:\n%s", m.View())
	}
}

func TestFitColumnsGivesSpareWidthToFlex(t *testing.T) {
	cols := fitColumns([]Column{{Title: "a", Width: 4, Flex: true}, {Title: "b", Width: 4}}, 30)
	if cols[0].Width != 22 || cols[1].Width != 4 {
		t.Fatalf("widths %d, %d; want 22, 4", cols[0].Width, cols[1].Width)
	}
	cols = fitColumns([]Column{{Title: "a", Width: 10, Flex: true}, {Title: "b", Width: 10}}, 16)
	// The flexible column gives way first, down to minColumn.
	if cols[0].Width != minColumn || cols[0].Width+cols[1].Width+2*cellPadding != 16 {
		t.Fatalf("squeezed widths %d, %d", cols[0].Width, cols[1].Width)
	}
}

func TestWriteCSVWritesFilteredRowsWithAllColumns(t *testing.T) {
	m := sample()
	m.SetSize(30, 5) // hides Note on screen, but export keeps it
	m.SetFilter("a")
	var buf bytes.Buffer
	n, err := m.WriteCSV(&buf)
	if err != nil {
		t.Fatal(err)
	}
	want := "Name,Note,N\nalpha,\"first, with a comma\",1\nbeta,second,2\nGamma,third,3\n"
	if n != 3 || buf.String() != want {
		t.Fatalf("wrote %d rows:\n%s\nwant:\n%s", n, buf.String(), want)
	}
}

// TestRowsBeforeOrAfterSize: a table sized before its first rows arrive
// shows as many rows as one that got its rows first.
func TestRowsBeforeOrAfterSize(t *testing.T) {
	cols := []Column{{Title: "n", Width: 4}}
	var rows [][]string
	for i := range 20 {
		rows = append(rows, []string{strconv.Itoa(i)})
	}
	sizedFirst := New(cols, table.DefaultStyles())
	sizedFirst.SetSize(20, 8)
	sizedFirst.SetRows(rows)
	rowsFirst := New(cols, table.DefaultStyles())
	rowsFirst.SetRows(rows)
	rowsFirst.SetSize(20, 8)
	if a, b := sizedFirst.View(), rowsFirst.View(); a != b {
		t.Errorf("sized first:\n%s\nrows first:\n%s", a, b)
	}
}
