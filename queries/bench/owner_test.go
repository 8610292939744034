package bench_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"hmperf/queries/bench"
	"hmperf/queries/lockwait"
	"hmperf/queries/pgtest"
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

// TestConcurrentRunsSerialize: a run started while another measures waits
// for it, saying which run it waits for, and measures after it ends; with
// no budget left it refuses, naming the run, and stores nothing.
func TestConcurrentRunsSerialize(t *testing.T) {
	t.Parallel()
	pool := setup(t)
	ctx := context.Background()
	started, second := make(chan int64, 1), make(chan error, 1)
	var firstEnd time.Time
	var secondRes *bench.Result
	var log strings.Builder
	first, err := bench.Run(ctx, pool, bench.Options{Tables: []string{"nutrition"}, Rows: 200, Reps: 3,
		Progress: func(p bench.Progress) {
			if p.Step != 0 || p.Done || p.Rep != 1 {
				return
			}
			var id int64
			_ = pool.QueryRow(ctx, "SELECT max(id) FROM hmperf.benchmark_runs").Scan(&id)
			// A refusal first: no budget.
			if _, err := bench.Run(ctx, pool, bench.Options{Tables: []string{"nutrition"}, Rows: 200, Reps: 1,
				LockWait: lockwait.Policy{Budget: -1}}); !errors.Is(err, bench.ErrBusy) || !strings.Contains(err.Error(), fmt.Sprintf("run %d", id)) {
				t.Errorf("a run with no budget beside run %d: %v; want it refused naming the run", id, err)
			}
			go func() {
				var err error
				secondRes, err = bench.Run(ctx, pool, bench.Options{Tables: []string{"nutrition"}, Rows: 200, Reps: 1, Log: &lockedWriter{b: &log}})
				second <- err
			}()
			started <- id
			// Give the second run time to queue behind this one.
			time.Sleep(time.Second)
		}})
	if err != nil {
		t.Fatal(err)
	}
	firstEnd = time.Now()
	firstID := <-started
	if err := <-second; err != nil {
		t.Fatal(err)
	}
	if first.ID != firstID {
		t.Fatalf("first run %d, the log named %d", first.ID, firstID)
	}
	if secondRes.StartedAt.Before(firstEnd.Add(-time.Second)) {
		t.Errorf("the second run started at %s, before the first ended at %s", secondRes.StartedAt, firstEnd)
	}
	if want := fmt.Sprintf("waiting for benchmark run %d", first.ID); !strings.Contains(log.String(), want) {
		t.Errorf("the waiting run said %q; want it to contain %q", log.String(), want)
	}
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM hmperf.benchmark_runs").Scan(&n); err != nil || n != 2 {
		t.Errorf("%d runs stored (%v); want 2, the refused one not at all", n, err)
	}
}

// lockedWriter is a strings.Builder safe for the run's goroutine and the
// test's.
type lockedWriter struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// TestSweepWithoutHmperfTables: on a database without hmperf's schema (what
// `migrate down --all` may meet, or a half-removed one) Sweep still drops a
// dead run's scratch schema and marks nothing.
func TestSweepWithoutHmperfTables(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.NewDB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, "CREATE SCHEMA hmperf_scratch_99"); err != nil {
		t.Fatal(err)
	}
	s, err := bench.Sweep(ctx, pool, lockwait.Policy{})
	if err != nil || len(s.Interrupted) != 0 || len(s.Schemas) != 1 || s.Schemas[0] != "hmperf_scratch_99" || len(s.InUse) != 0 {
		t.Errorf("Sweep: %+v, %v; want hmperf_scratch_99 dropped, nothing else", s, err)
	}
}
