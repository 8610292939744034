package main

import (
	"context"
	"encoding/json"

	"hmperf/cmd/internal/benchout"
	"hmperf/queries/bench"
)

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
	pool, err := t.Pool(ctx, 1)
	if err != nil {
		return err
	}
	defer pool.Close()
	runs, err := bench.History(ctx, pool, historyLimit)
	if err != nil {
		return err
	}
	out := make([]benchout.HistoryRun, len(runs))
	for i, r := range runs {
		out[i] = benchout.HistoryRun{ID: r.ID, StartedAt: r.StartedAt, Status: r.Status, Tables: r.Tables, Rows: r.Rows, Reps: r.Reps,
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
	benchout.History(e.stdout, out)
	return nil
}
