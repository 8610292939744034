package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"hmperf/queries/bench"
)

// historyRun is one stored run as `bench --history --json` prints it.
type historyRun struct {
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

// historyLimit is how many runs --history lists, as many as the dashboard.
const historyLimit = 20

// benchHistory prints the most recent stored runs, newest first, with how
// each ended. It only reads, so it works on a read-only session.
func benchHistory(ctx context.Context, e env, o benchOpts) error {
	t, err := openSchema(ctx, o.conn, e.stderr)
	if err != nil {
		return err
	}
	defer t.Close()
	pool, err := t.pool(ctx, 1)
	if err != nil {
		return err
	}
	defer pool.Close()
	runs, err := bench.History(ctx, pool, historyLimit)
	if err != nil {
		return err
	}
	out := make([]historyRun, len(runs))
	for i, r := range runs {
		out[i] = historyRun{ID: r.ID, StartedAt: r.StartedAt, Status: r.Status, Tables: r.Tables, Rows: r.Rows, Reps: r.Reps,
			Method: r.Setup.Method, Commit: r.Setup.Commit, Error: r.Error}
		if !r.FinishedAt.IsZero() {
			out[i].FinishedAt = &r.FinishedAt
		}
	}
	if o.json {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"runs": out})
	}
	printHistory(e.stdout, out)
	return nil
}

func printHistory(w io.Writer, runs []historyRun) {
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
			strings.Join(r.Tables, ","), thousands(float64(r.Rows)), r.Reps, method, r.Error)
	}
	tw.Flush()
}
