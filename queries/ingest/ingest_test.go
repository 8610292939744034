package ingest_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"hmperf/engine"
	"hmperf/queries/ingest"
	"hmperf/queries/pgtest"
)

func TestMain(m *testing.M) { pgtest.MainNoLeaks(m) }

// fixedEnd keeps generated timestamps the same from run to run.
var fixedEnd = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func newPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), pgtest.NewMigratedDB(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func newIngester(t *testing.T, pool *pgxpool.Pool, policy engine.Policy, c engine.Context) *ingest.Ingester {
	t.Helper()
	cache, err := engine.NewCache(1000, time.Hour, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	in, err := ingest.New(pool, ingest.Options{Context: c, Validator: engine.NewValidator(engine.DefaultRules(), policy, cache), Cache: cache,
		CreateUsers: true}) // hmperf's own database: its users are hmperf's
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func generator(t *testing.T, seed uint64, dup, invalid float64) *engine.Generator {
	t.Helper()
	g, err := engine.NewGenerator(engine.GenConfig{Seed: seed, DupRate: dup, InvalidRate: invalid, End: fixedEnd})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// checkAccounting asserts received = inserted + duplicates + rejected +
// unsupported overall and per type, and that the database agrees: the rows
// in the tables, the stored batch stats and the stored rejections.
func checkAccounting(t *testing.T, pool *pgxpool.Pool, tot ingest.Totals, wantReceived int64) {
	t.Helper()
	if tot.Received != wantReceived {
		t.Errorf("received %d, want %d", tot.Received, wantReceived)
	}
	if sum := tot.Inserted + tot.Duplicates + tot.Rejected + tot.Unsupported; sum != tot.Received {
		t.Errorf("received %d != inserted %d + duplicates %d + rejected %d + unsupported %d", tot.Received, tot.Inserted, tot.Duplicates, tot.Rejected, tot.Unsupported)
	}
	for name, bt := range tot.ByType {
		if bt.Inserted+bt.Duplicates+bt.Rejected+bt.Unsupported != bt.Received {
			t.Errorf("%s: %+v does not add up", name, *bt)
		}
	}
	ctx := context.Background()
	var stored, storedRejected, rejections int64
	if err := pool.QueryRow(ctx, `SELECT coalesce(sum(inserted),0), coalesce(sum(rejected),0) FROM hmperf.ingest_batch_stats WHERE run_id = $1`, tot.RunID).Scan(&stored, &storedRejected); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM hmperf.ingest_rejections WHERE run_id = $1`, tot.RunID).Scan(&rejections); err != nil {
		t.Fatal(err)
	}
	if stored != tot.Inserted || storedRejected != tot.Rejected || rejections != tot.Rejected {
		t.Errorf("stored stats: inserted %d rejected %d, rejections %d; totals: inserted %d rejected %d", stored, storedRejected, rejections, tot.Inserted, tot.Rejected)
	}
}

func countRows(t *testing.T, pool *pgxpool.Pool) int64 {
	t.Helper()
	var total int64
	for _, k := range engine.Kinds() {
		var n int64
		if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM "+k.Table()).Scan(&n); err != nil {
			t.Fatal(err)
		}
		total += n
	}
	return total
}

func TestSampleAccounting(t *testing.T) {
	cases := []struct {
		name         string
		n, batch     int
		dup, invalid float64
	}{
		{"clean", 3000, 700, 0, 0},
		{"duplicates and invalid", 6000, 1000, 0.2, 0.1},
		{"one batch", 500, 5000, 0.05, 0.02},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pool := newPool(t)
			in := newIngester(t, pool, engine.DefaultPolicy(), engine.ContextAPI)
			if err := ingest.RunSample(context.Background(), in, generator(t, 7, tc.dup, tc.invalid), tc.n, tc.batch, nil); err != nil {
				t.Fatal(err)
			}
			tot := in.Totals()
			checkAccounting(t, pool, tot, int64(tc.n))
			if got := countRows(t, pool); got != tot.Inserted {
				t.Errorf("rows in tables %d, inserted %d", got, tot.Inserted)
			}
			if tc.invalid > 0 && tot.Rejected == 0 || tc.dup > 0 && tot.Duplicates == 0 {
				t.Errorf("rates %v/%v gave %d rejected, %d duplicates", tc.invalid, tc.dup, tot.Rejected, tot.Duplicates)
			}
			if tc.invalid == 0 && tc.dup == 0 && tot.Inserted != int64(tc.n) {
				t.Errorf("clean sample: inserted %d of %d", tot.Inserted, tc.n)
			}
		})
	}
}

func TestSameInputTwiceInsertsNothing(t *testing.T) {
	t.Parallel()
	pool := newPool(t)
	ctx := context.Background()
	first := newIngester(t, pool, engine.DefaultPolicy(), engine.ContextAPI)
	if err := ingest.RunSample(ctx, first, generator(t, 11, 0.1, 0.05), 4000, 1000, nil); err != nil {
		t.Fatal(err)
	}
	// A second run has a fresh cross-batch tracker: only the database's
	// ON CONFLICT knows the keys.
	second := newIngester(t, pool, engine.DefaultPolicy(), engine.ContextAPI)
	if err := ingest.RunSample(ctx, second, generator(t, 11, 0.1, 0.05), 4000, 1000, nil); err != nil {
		t.Fatal(err)
	}
	a, b := first.Totals(), second.Totals()
	checkAccounting(t, pool, b, 4000)
	if b.Inserted != 0 {
		t.Errorf("second run inserted %d rows", b.Inserted)
	}
	if b.Duplicates != a.Inserted+a.Duplicates || b.Rejected != a.Rejected {
		t.Errorf("second run: %d duplicates, %d rejected; first: %d inserted + %d duplicates, %d rejected", b.Duplicates, b.Rejected, a.Inserted, a.Duplicates, a.Rejected)
	}
	if got := countRows(t, pool); got != a.Inserted {
		t.Errorf("rows %d, want %d", got, a.Inserted)
	}
}

// TestSkippedValidationStillGuarded: a context that skips Go validation
// counts its records as unvalidated, and the database's CHECKs reject the
// invalid ones, each kept with the constraint's name.
func TestSkippedValidationStillGuarded(t *testing.T) {
	t.Parallel()
	pool := newPool(t)
	in := newIngester(t, pool, engine.PolicySkipping(engine.ContextBulkImport), engine.ContextBulkImport)
	if err := ingest.RunSample(context.Background(), in, generator(t, 3, 0, 0.1), 3000, 1000, nil); err != nil {
		t.Fatal(err)
	}
	tot := in.Totals()
	checkAccounting(t, pool, tot, 3000)
	if tot.Unvalidated != 3000 {
		t.Errorf("unvalidated %d, want 3000", tot.Unvalidated)
	}
	if tot.Rejected == 0 {
		t.Fatal("no record rejected by the database")
	}
	for reason := range tot.RejectsByReason {
		if len(reason) < 3 || reason[:3] != "db:" {
			t.Errorf("reason %q does not come from the database", reason)
		}
	}
	if got := countRows(t, pool); got != tot.Inserted {
		t.Errorf("rows %d, inserted %d", got, tot.Inserted)
	}
}
