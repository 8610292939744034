package indexq_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"hmperf/queries/indexq"
	"hmperf/queries/pgtest"
)

func TestMain(m *testing.M) { pgtest.MainNoLeaks(m) }

// bundle is what a test needs: the DSN of a fresh migrated database and a
// pool on it.
type bundle struct {
	dsn  string
	pool *pgxpool.Pool
}

func setup(t *testing.T) bundle {
	t.Helper()
	dsn := pgtest.NewMigratedDB(t)
	return bundle{dsn: dsn, pool: newPool(t, dsn)}
}

func newPool(t *testing.T, dsn string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func (b bundle) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	if _, err := b.pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// items creates a plain table with n rows to index.
func (b bundle) items(t *testing.T, n int) {
	t.Helper()
	b.exec(t, "CREATE TABLE idxq_items (id bigint GENERATED ALWAYS AS IDENTITY, a int, b text, doc jsonb)")
	b.exec(t, `INSERT INTO idxq_items (a, b, doc) SELECT g % 1000, md5(g::text), jsonb_build_object('k', g % 7)
		FROM generate_series(1, $1) g`, n)
}

func (b bundle) enqueue(t *testing.T, s indexq.Spec) int64 {
	t.Helper()
	id, err := indexq.Enqueue(context.Background(), b.pool, s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (b bundle) job(t *testing.T, id int64) indexq.Job {
	t.Helper()
	j, err := indexq.JobByID(context.Background(), b.pool, id)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// relations counts pg_class entries called name, and the INVALID indexes
// among them.
func (b bundle) relations(t *testing.T, name string) (n, invalid int) {
	t.Helper()
	err := b.pool.QueryRow(context.Background(), `
		SELECT count(*), count(*) FILTER (WHERE NOT coalesce(i.indisvalid, true))
		  FROM pg_class c LEFT JOIN pg_index i ON i.indexrelid = c.oid WHERE c.relname = $1`, name).Scan(&n, &invalid)
	if err != nil {
		t.Fatal(err)
	}
	return n, invalid
}

func TestTwoWorkersBuildEachIndexOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.items(t, 20000)
	specs := []indexq.Spec{
		{Index: "idxq_a", Method: "btree", Columns: []string{"a"}},
		{Index: "idxq_b", Method: "btree", Columns: []string{"b"}},
		{Index: "idxq_ab", Method: "btree", Columns: []string{"a", "b"}},
		{Index: "idxq_id_brin", Method: "brin", Columns: []string{"id"}},
		{Index: "idxq_doc_gin", Method: "gin", Columns: []string{"doc"}},
		{Index: "idxq_id_unique", Method: "btree", Columns: []string{"id"}, Unique: true},
	}
	var ids []int64
	for _, s := range specs {
		s.Table = "idxq_items"
		ids = append(ids, b.enqueue(t, s))
	}
	var mu sync.Mutex
	built := map[int64]int{}
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			// Each worker has its own pool: separate connections.
			sum, err := indexq.Process(context.Background(), newPool(t, b.dsn), fmt.Sprintf("worker-%d", w), 0)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, o := range sum.Outcomes {
				if o.Status == indexq.Done {
					built[o.JobID]++
				}
			}
		})
	}
	wg.Wait()
	for i, id := range ids {
		j := b.job(t, id)
		if built[id] != 1 || j.Status != indexq.Done || j.Attempts != 1 || j.FinishedAt.IsZero() || j.SizeBytes <= 0 {
			t.Errorf("job %s: built %d times, %+v", specs[i].Index, built[id], j)
		}
		if n, invalid := b.relations(t, specs[i].Index); n != 1 || invalid != 0 {
			t.Errorf("index %s: %d relations, %d invalid", specs[i].Index, n, invalid)
		}
	}
}

func TestFailingBuildRetriesThenFailsWithoutInvalidIndex(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.items(t, 5000) // a has only 1000 distinct values
	id := b.enqueue(t, indexq.Spec{Table: "idxq_items", Index: "idxq_a_unique", Method: "btree", Columns: []string{"a"}, Unique: true, MaxAttempts: 3})
	w := indexq.Worker{Pool: b.pool, ID: "test", Backoff: 10 * time.Millisecond}
	sum, err := w.Process(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	var statuses []string
	for _, o := range sum.Outcomes {
		statuses = append(statuses, o.Status)
	}
	if want := []string{indexq.Pending, indexq.Pending, indexq.Failed}; !slices.Equal(statuses, want) {
		t.Errorf("outcomes %v, want %v", statuses, want)
	}
	j := b.job(t, id)
	if j.Status != indexq.Failed || j.Attempts != 3 || !strings.Contains(j.Error, "could not create unique index") {
		t.Errorf("job %+v: want failed after 3 attempts with the unique violation", j)
	}
	if n, _ := b.relations(t, "idxq_a_unique"); n != 0 {
		t.Errorf("%d relations named idxq_a_unique left behind (an INVALID index?)", n)
	}
}

// TestWriterKeepsWritingDuringBuild checks CREATE INDEX CONCURRENTLY does not
// block a writer, and that the build's progress is readable while it runs:
// an open write transaction holds the build in its "waiting for writers"
// phase until the test has read the progress.
func TestWriterKeepsWritingDuringBuild(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.items(t, 100000)
	id := b.enqueue(t, indexq.Spec{Table: "idxq_items", Index: "idxq_b_build", Method: "btree", Columns: []string{"b", "a"}})
	ctx := context.Background()
	holder, err := b.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := holder.Exec(ctx, "INSERT INTO idxq_items (a, b) VALUES (-1, 'held')"); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	writer := startWriter(t, b.dsn, stop)
	done := make(chan error, 1)
	go func() {
		_, err := indexq.Process(ctx, newPool(t, b.dsn), "builder", 0)
		done <- err
	}()
	st := waitForProgress(t, b.pool, id)
	if !strings.HasPrefix(st.Progress.Phase, "waiting for writers") || st.Progress.Index != "idxq_b_build" {
		t.Errorf("progress %+v, want the named index waiting for the held writer", st.Progress)
	}
	if err := holder.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	close(stop)
	res := <-writer
	if res.err != nil || res.rows == 0 || res.maxLatency > 2*time.Second {
		t.Errorf("writer: %d rows, max latency %s, error %v", res.rows, res.maxLatency, res.err)
	}
	if j := b.job(t, id); j.Status != indexq.Done {
		t.Errorf("job %+v, want done", j)
	}
}

type writerResult struct {
	rows       int
	maxLatency time.Duration
	err        error
}

// startWriter inserts one row at a time, each its own transaction, on its own
// connection until stop closes, and reports its slowest insert.
func startWriter(t *testing.T, dsn string, stop chan struct{}) chan writerResult {
	pool := newPool(t, dsn)
	out := make(chan writerResult, 1)
	go func() {
		var r writerResult
		for {
			select {
			case <-stop:
				out <- r
				return
			default:
			}
			start := time.Now()
			if _, err := pool.Exec(context.Background(), "INSERT INTO idxq_items (a, b) VALUES ($1, md5(random()::text))", r.rows); err != nil {
				r.err = err
				out <- r
				return
			}
			r.maxLatency = max(r.maxLatency, time.Since(start))
			r.rows++
		}
	}()
	return out
}

func waitForProgress(t *testing.T, pool *pgxpool.Pool, id int64) indexq.JobStatus {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		all, err := indexq.Status(context.Background(), pool)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range all {
			// "initializing" comes before the index has a catalog entry
			// (and so a name); the held writer keeps the build in the
			// next phase long enough to read it.
			if st.ID == id && st.Progress != nil && st.Progress.Phase != "initializing" {
				return st
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no build progress seen within 30s")
	return indexq.JobStatus{}
}

// TestReclaimVanishedWorker: a job left running by a worker that died is put
// back and built; a running job whose worker still holds its table's build
// lock is left alone.
func TestReclaimVanishedWorker(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.items(t, 100)
	b.exec(t, "CREATE TABLE idxq_other (a int)")
	dead := b.enqueue(t, indexq.Spec{Table: "idxq_items", Index: "idxq_reclaimed", Method: "btree", Columns: []string{"a"}})
	live := b.enqueue(t, indexq.Spec{Table: "idxq_other", Index: "idxq_live", Method: "btree", Columns: []string{"a"}})
	b.exec(t, `UPDATE deferred_index_creation SET status = 'running', attempts = 1, worker = 'gone:1',
	           started_at = now() - interval '2 minutes' WHERE id = ANY($1)`, []int64{dead, live})
	ctx := context.Background()
	holder, err := b.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Release()
	if _, err := holder.Exec(ctx, "SELECT pg_advisory_lock(hashtext('hmperf.indexq'), hashtext('idxq_other'))"); err != nil {
		t.Fatal(err)
	}
	defer holder.Exec(ctx, "SELECT pg_advisory_unlock_all()")
	if _, err := indexq.Process(ctx, b.pool, "test", 0); err != nil {
		t.Fatal(err)
	}
	if j := b.job(t, dead); j.Status != indexq.Done || j.Attempts != 2 {
		t.Errorf("vanished worker's job: %+v, want done on attempt 2", j)
	}
	if j := b.job(t, live); j.Status != indexq.Running {
		t.Errorf("live worker's job: %+v, want still running", j)
	}
}

// TestCancelledBuildLeavesNoInvalidIndex cancels a build while it waits for
// a writer, after its INVALID catalog entry exists: cancelling closes the
// build's connection, and the leftover must still be dropped at once, not
// when the job runs again.
func TestCancelledBuildLeavesNoInvalidIndex(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.items(t, 1000)
	id := b.enqueue(t, indexq.Spec{Table: "idxq_items", Index: "idxq_cancelled", Method: "btree", Columns: []string{"a"}})
	ctx := context.Background()
	holder, err := b.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback(ctx)
	if _, err := holder.Exec(ctx, "INSERT INTO idxq_items (a, b) VALUES (-1, 'held')"); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := indexq.Process(wctx, newPool(t, b.dsn), "cancelled", 0)
		done <- err
	}()
	waitForProgress(t, b.pool, id)
	if _, invalid := b.relations(t, "idxq_cancelled"); invalid != 1 {
		t.Fatalf("%d INVALID idxq_cancelled while the build waits, want 1", invalid)
	}
	cancel()
	// The drop waits for the held writer as the build did.
	time.Sleep(100 * time.Millisecond)
	if err := holder.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("the cancelled worker did not return")
	}
	if n, _ := b.relations(t, "idxq_cancelled"); n != 0 {
		t.Errorf("%d relation(s) idxq_cancelled left after a cancelled build, want 0", n)
	}
	if j := b.job(t, id); j.Status == indexq.Running || j.Status == indexq.Done {
		t.Errorf("job after a cancelled build: %+v", j)
	}
}
