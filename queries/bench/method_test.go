package bench_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"hmperf/queries"
	"hmperf/queries/bench"
	"hmperf/queries/pgtest"
)

// scratchSchemas counts the schemas that hold scratch copies.
func scratchSchemas(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'hmperf\\_scratch\\_%'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestMethods runs every write method on one pair: each measures all
// three variants every repetition, stores how it wrote, and leaves no rows
// and no scratch copy behind.
func TestMethods(t *testing.T) {
	pool := setup(t)
	ctx := context.Background()
	cases := []struct {
		method bench.Method
		commit bool
	}{
		{bench.MethodCopy, false}, {bench.MethodCopy, true}, {bench.MethodService, false}, {bench.MethodFunction, false},
	}
	for _, c := range cases {
		t.Run(string(c.method), func(t *testing.T) {
			res, err := bench.Run(ctx, pool, bench.Options{Tables: []string{"nutrition"}, Rows: 300, Reps: 2, Seed: 3, Method: c.method, Commit: c.commit})
			if err != nil {
				t.Fatal(err)
			}
			wantCommit := c.commit || c.method == bench.MethodService
			if res.Status != bench.StatusDone || len(res.Measurements) != 6 || res.Setup.Commit != wantCommit {
				t.Fatalf("status %s, %d measurements, setup %+v", res.Status, len(res.Measurements), res.Setup)
			}
			for _, m := range res.Measurements {
				if m.Rows != 300 || m.Seconds <= 0 {
					t.Errorf("measurement %+v", m)
				}
			}
			back, err := bench.ByID(ctx, pool, res.ID)
			if err != nil || back.Setup != res.Setup || back.SizesBefore["nutrition_metrics"] <= 0 {
				t.Errorf("stored setup %+v sizes %v (%v), want %+v", back.Setup, back.SizesBefore, err, res.Setup)
			}
			ops := res.Comparisons[0].Verdicts[1]
			if (ops.Verdict == bench.NotComparable) != (c.method != bench.MethodFunction) {
				t.Errorf("ops/s verdict %s by method %s", ops.Verdict, c.method)
			}
			if n := dataRows(t, pool); n != 0 {
				t.Errorf("%d rows left in the benchmarked tables", n)
			}
			if n := scratchSchemas(t, pool); n != 0 {
				t.Errorf("%d scratch schemas left", n)
			}
		})
	}
}

// TestCommitOnCancel: a cancelled committed run drops its scratch copies.
func TestCommitOnCancel(t *testing.T) {
	pool := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := bench.Run(ctx, pool, bench.Options{Tables: []string{"symptoms"}, Rows: 300, Reps: 3, Method: bench.MethodService,
		Progress: func(p bench.Progress) {
			if p.Step == 4 && !p.Done {
				cancel()
			}
		}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if n := scratchSchemas(t, pool); n != 0 {
		t.Errorf("%d scratch schemas left after a cancelled run", n)
	}
}

// TestAutoReps: automatic repetitions stop within the time budget, and the
// run stores how many it made.
func TestAutoReps(t *testing.T) {
	pool := setup(t)
	ctx := context.Background()
	var last bench.Progress
	start := time.Now()
	res, err := bench.Run(ctx, pool, bench.Options{Tables: []string{"symptoms"}, Rows: 200, MaxTime: 3 * time.Second,
		Progress: func(p bench.Progress) { last = p }})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Auto || res.Reps < 1 || res.Reps != len(res.Measurements)/3 || last.Reps != 0 || last.Rep != res.Reps {
		t.Errorf("auto %v, %d reps, %d measurements, last progress %+v", res.Auto, res.Reps, len(res.Measurements), last)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("a 3 s budget took %v", took)
	}
	if res.Reps >= bench.MinReps && last.Ratio.Bounded != true {
		t.Errorf("progress after %d reps has no interval", res.Reps)
	}
	back, err := bench.ByID(ctx, pool, res.ID)
	if err != nil || back.Reps != res.Reps || !back.Auto {
		t.Errorf("stored reps %d auto %v (%v), want %d", back.Reps, back.Auto, err, res.Reps)
	}
}

// TestSeedsNeverContradict: two runs with different seeds never give
// "holds" in one and "does not hold" in the other for the same claim.
func TestSeedsNeverContradict(t *testing.T) {
	pool := setup(t)
	ctx := context.Background()
	verdicts := map[[2]string][]bench.Outcome{}
	for _, seed := range []uint64{11, 12} {
		res, err := bench.Run(ctx, pool, bench.Options{Rows: 300, Reps: bench.MinReps, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range res.Comparisons {
			for _, v := range c.Verdicts {
				k := [2]string{c.Pair, v.Claim}
				verdicts[k] = append(verdicts[k], v.Verdict)
			}
		}
	}
	for k, vs := range verdicts {
		if len(vs) != 2 {
			t.Errorf("%v: %d verdicts", k, len(vs))
			continue
		}
		if (vs[0] == bench.Holds && vs[1] == bench.DoesNotHold) || (vs[0] == bench.DoesNotHold && vs[1] == bench.Holds) {
			t.Errorf("%v: %s with one seed, %s with the other", k, vs[0], vs[1])
		}
	}
}

func TestLatestDone(t *testing.T) {
	pool := setup(t)
	ctx := context.Background()
	done, err := bench.Run(ctx, pool, bench.Options{Tables: []string{"symptoms"}, Rows: 100, Reps: 1})
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	_, err = bench.Run(cctx, pool, bench.Options{Tables: []string{"symptoms"}, Rows: 100, Reps: 2,
		Progress: func(p bench.Progress) {
			if p.Step == 4 && !p.Done {
				cancel()
			}
		}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	latest, err := bench.Latest(ctx, pool)
	if err != nil || latest.ID == done.ID {
		t.Fatalf("Latest = %v, %v; want the cancelled run", latest, err)
	}
	if got, err := latestDone(ctx, pool); err != nil || got.ID != done.ID {
		t.Errorf("the latest finished run = %+v, %v; want run %d", got, err, done.ID)
	}
}

// latestDone reads the latest finished run's key as the dashboard does,
// queued in a batch.
func latestDone(ctx context.Context, db queries.DBTX) (bench.RunKey, error) {
	var key bench.RunKey
	b := &pgx.Batch{}
	bench.QueueLatestDone(b, &key)
	return key, db.SendBatch(ctx, b).Close()
}

// TestPanicDropsScratch: a run that panics midway (here in its progress
// callback) still drops its scratch copies as the panic unwinds.
func TestPanicDropsScratch(t *testing.T) {
	pool := setup(t)
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("the run did not panic")
			}
		}()
		_, _ = bench.Run(context.Background(), pool, bench.Options{Tables: []string{"symptoms"}, Rows: 100, Reps: 2,
			Progress: func(p bench.Progress) {
				if p.Step == 2 {
					panic("progress callback")
				}
			}})
	}()
	if n := scratchSchemas(t, pool); n != 0 {
		t.Errorf("%d scratch schemas left after a panic", n)
	}
}

// TestSweepKilledRun: the scratch schema of a run whose hmperf was killed
// (its row still says running, nobody owns it) is dropped by the next run.
func TestSweepKilledRun(t *testing.T) {
	pool := setup(t)
	ctx := context.Background()
	var id int64
	if err := pool.QueryRow(ctx, `INSERT INTO hmperf.benchmark_runs (tables, rows, reps, server_version, status)
		VALUES ('{symptoms}', 100, 1, 'test', 'running') RETURNING id`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{"hmperf_scratch_" + strconv.FormatInt(id, 10)}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	if _, err := bench.Run(ctx, pool, bench.Options{Tables: []string{"symptoms"}, Rows: 100, Reps: 1}); err != nil {
		t.Fatal(err)
	}
	if n := scratchSchemas(t, pool); n != 0 {
		t.Errorf("%d scratch schemas left; want the killed run's swept", n)
	}
	var stored string
	if err := pool.QueryRow(ctx, "SELECT status FROM hmperf.benchmark_runs WHERE id = $1", id).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored != bench.StatusInterrupted {
		t.Errorf("the killed run is stored as %q, want %q", stored, bench.StatusInterrupted)
	}
}

// TestSweepSparesALiveScratch: scratch copies in use (WithScratch, no run
// row of their own) survive a benchmark that runs meanwhile, and are
// dropped when their user is done.
func TestSweepSparesALiveScratch(t *testing.T) {
	pool := setup(t)
	ctx := context.Background()
	err := bench.WithScratch(ctx, pool, []string{"symptoms"}, func(schema string) error {
		if _, err := bench.Run(ctx, pool, bench.Options{Tables: []string{"symptoms"}, Rows: 100, Reps: 1}); err != nil {
			return err
		}
		var exists bool
		if err := pool.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", pgx.Identifier{schema, "symptoms"}.Sanitize()).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			t.Errorf("a benchmark swept %s while it was in use", schema)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := scratchSchemas(t, pool); n != 0 {
		t.Errorf("%d scratch schemas left", n)
	}
}

// TestEveryMethodLeavesTheLiveTablesAlone: on hmperf's own database too,
// every method writes only its scratch copies: the live tables' insert,
// update, delete, vacuum and analyze counts, their sequences and users read
// the same after each run (the pool is closed first, so its sessions have
// flushed their statistics).
func TestEveryMethodLeavesTheLiveTablesAlone(t *testing.T) {
	dsn := pgtest.NewMigratedDB(t)
	ctx := context.Background()
	before := pgtest.Footprint(t, dsn)
	for _, m := range []bench.Method{bench.MethodCopy, bench.MethodService, bench.MethodFunction} {
		pool, err := pgxpool.New(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		_, err = bench.Run(ctx, pool, bench.Options{Rows: 100, Reps: 1, Method: m})
		pool.Close()
		if err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		if diff := pgtest.FootprintDiff(before, pgtest.Footprint(t, dsn)); diff != "" {
			t.Errorf("--method %s changed the live tables:\n%s", m, diff)
		}
	}
}

// TestOlderRunsSayWhereTheyWrote: a run stored before benchmarks wrote
// scratch copies reads back as having written the live tables (rolled
// back), and a committed one as scratch copies, as they did.
func TestOlderRunsSayWhereTheyWrote(t *testing.T) {
	pool := setup(t)
	ctx := context.Background()
	for _, c := range []struct {
		commit string
		want   string
	}{
		{"false", "binary COPY, rolled back"},
		{"true", "binary COPY, committed, into scratch copies of the live tables"},
	} {
		var id int64
		if err := pool.QueryRow(ctx, `INSERT INTO hmperf.benchmark_runs (tables, rows, reps, server_version, settings, status)
			VALUES ('{symptoms}', 100, 1, 'test', jsonb_build_object('hmperf.method', 'copy', 'hmperf.commit', $1::text), 'done')
			RETURNING id`, c.commit).Scan(&id); err != nil {
			t.Fatal(err)
		}
		r, err := bench.ByID(ctx, pool, id)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Setup.Describe(); got != c.want {
			t.Errorf("commit %s: %q, want %q", c.commit, got, c.want)
		}
	}
}
