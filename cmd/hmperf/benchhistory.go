package main

import (
	"context"

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
	return benchout.History(e.stdout, runs, o.json)
}
