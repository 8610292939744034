package benchout

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"hmperf/queries/bench"
)

// HistoryRun is one stored run as `bench --history --json` prints it.
type HistoryRun struct {
	ID         int64      `json:"run_id"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
	// Status is running, done, cancelled, failed or interrupted (its
	// hmperf ended before recording the end; its figures are partial).
	Status string       `json:"status"`
	Tables []string     `json:"tables"`
	Rows   int          `json:"rows"`
	Reps   int          `json:"reps"`
	Method bench.Method `json:"write_method"`
	Commit bool         `json:"commit"`
	Error  string       `json:"error,omitempty"`
}

// History writes the stored runs, newest first, with how each ended: as
// the --json document, or a table.
func History(w io.Writer, stored []bench.Result, asJSON bool) error {
	runs := make([]HistoryRun, len(stored))
	for i, r := range stored {
		runs[i] = HistoryRun{ID: r.ID, StartedAt: r.StartedAt, Status: r.Status, Tables: r.Tables, Rows: r.Rows, Reps: r.Reps,
			Method: r.Setup.Method, Commit: r.Setup.Commit, Error: r.Error}
		if !r.FinishedAt.IsZero() {
			runs[i].FinishedAt = &r.FinishedAt
		}
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"runs": runs})
	}
	historyTable(w, runs)
	return nil
}

// historyTable writes runs as a table.
func historyTable(w io.Writer, runs []HistoryRun) {
	if len(runs) == 0 {
		fmt.Fprintln(w, "no benchmark run stored yet")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "run\tstarted\tstatus\ttables\trows\treps\tmethod\terror")
	for _, r := range runs {
		method := string(r.Method)
		if r.Commit {
			method += ", committed"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", r.ID, r.StartedAt.Local().Format("2006-01-02 15:04:05"), r.Status,
			strings.Join(r.Tables, ","), Thousands(float64(r.Rows)), r.Reps, method, r.Error)
	}
	tw.Flush()
}
