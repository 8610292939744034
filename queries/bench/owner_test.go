package bench_test

import (
	"context"
	"testing"

	"hmperf/queries/bench"
)

// TestRunOwnership reads a run from another session while it runs (running:
// its owner holds the lock), and a run left "running" by an owner that is
// gone (interrupted, in ByID, Latest and History alike).
func TestRunOwnership(t *testing.T) {
	t.Parallel()
	pool := setup(t)
	ctx := context.Background()
	var during string
	res, err := bench.Run(ctx, pool, bench.Options{Tables: []string{"nutrition"}, Rows: 200, Reps: 1,
		Progress: func(p bench.Progress) {
			if p.Step == 1 && !p.Done && during == "" {
				r, err := bench.Latest(ctx, pool)
				if err != nil {
					t.Error(err)
					return
				}
				during = r.Status
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if during != bench.StatusRunning || res.Status != bench.StatusDone {
		t.Errorf("status while running %q, after %q; want running, done", during, res.Status)
	}
	// What a killed hmperf leaves: the row says running, no session owns it.
	var orphan int64
	err = pool.QueryRow(ctx, `INSERT INTO hmperf.benchmark_runs (tables, rows, reps, server_version, status)
		VALUES ('{nutrition_metrics}', 200, 1, 'x', 'running') RETURNING id`).Scan(&orphan)
	if err != nil {
		t.Fatal(err)
	}
	back, err := bench.ByID(ctx, pool, orphan)
	if err != nil {
		t.Fatal(err)
	}
	latest, err := bench.Latest(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	hist, err := bench.History(ctx, pool, 1)
	if err != nil {
		t.Fatal(err)
	}
	for what, got := range map[string]string{"ByID": back.Status, "Latest": latest.Status, "History": hist[0].Status} {
		if got != bench.StatusInterrupted {
			t.Errorf("%s reads an unowned running run as %q, want %q", what, got, bench.StatusInterrupted)
		}
	}
	if back, err := bench.ByID(ctx, pool, res.ID); err != nil || back.Status != bench.StatusDone {
		t.Errorf("the finished run reads as %v, %v", back, err)
	}
}
