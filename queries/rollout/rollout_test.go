package rollout_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"hmperf/queries/lockwait"
	"hmperf/queries/pgtest"
	"hmperf/queries/rollout"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// bundle is what a rollout test works with.
type bundle struct {
	dsn    string
	pool   *pgxpool.Pool
	runner *rollout.Runner
}

func setup(t testing.TB, dsn string) bundle {
	t.Helper()
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 4
	cfg.ConnConfig.RuntimeParams["application_name"] = "hmperf rollout"
	cfg.ConnConfig.RuntimeParams["lock_timeout"] = "200"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return bundle{dsn: dsn, pool: pool, runner: &rollout.Runner{Pool: pool, Lock: lockwait.Policy{Budget: 30 * time.Second, First: 50 * time.Millisecond}}}
}

// seed adds a user and n symptoms rows, one a minute back from now.
func seed(t testing.TB, db *pgxpool.Pool, n int) {
	t.Helper()
	ctx := context.Background()
	for _, sql := range []string{
		`INSERT INTO public.users (id, email) VALUES ('00000000-0000-0000-0000-000000000019', 'rollout@example.org') ON CONFLICT DO NOTHING`,
		`INSERT INTO public.symptoms (user_id, recorded_at, symptom_type, severity, duration_minutes, notes)
		 SELECT '00000000-0000-0000-0000-000000000019', date_trunc('minute', now()) - make_interval(mins => g),
		        (ARRAY['fever', 'cough', 'nausea', 'headache'])[1 + g % 4], (ARRAY['mild', 'moderate', 'severe', 'not_present'])[1 + g % 3],
		        g % 600, 'seeded ' || g
		   FROM generate_series(1, $1) g`,
	} {
		if _, err := db.Exec(ctx, sql, argsFor(sql, n)...); err != nil {
			t.Fatal(err)
		}
	}
}

func argsFor(sql string, n int) []any {
	if strings.Contains(sql, "$1") {
		return []any{n}
	}
	return nil
}

// writer is a client of the service's kind: it inserts a row every few
// milliseconds with its own statements, and counts what failed and the
// slowest statement.
type writer struct {
	pool    *pgxpool.Pool
	wrote   atomic.Int64
	failed  atomic.Int64
	slowest atomic.Int64
	lastErr atomic.Value
	stop    chan struct{}
	done    sync.WaitGroup
}

func startWriter(t *testing.T, dsn string) *writer {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 1
	cfg.ConnConfig.RuntimeParams["application_name"] = "service"
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := &writer{pool: pool, stop: make(chan struct{})}
	w.done.Add(1)
	go w.run()
	return w
}

func (w *writer) run() {
	defer w.done.Done()
	for i := 1; ; i++ {
		select {
		case <-w.stop:
			return
		case <-time.After(5 * time.Millisecond):
		}
		start := time.Now()
		_, err := w.pool.Exec(context.Background(), `INSERT INTO symptoms (user_id, recorded_at, symptom_type, severity, notes)
			VALUES ('00000000-0000-0000-0000-000000000019', clock_timestamp() - interval '1 hour', 'fatigue', 'mild', 'client ' || $1::int)`, i)
		if d := time.Since(start); d.Nanoseconds() > w.slowest.Load() {
			w.slowest.Store(d.Nanoseconds())
		}
		if err != nil {
			w.failed.Add(1)
			w.lastErr.Store(err.Error())
			continue
		}
		w.wrote.Add(1)
	}
}

// end stops the writer and checks it saw no failed statement and none
// slower than 3 s.
func (w *writer) end(t *testing.T) {
	t.Helper()
	close(w.stop)
	w.done.Wait()
	w.pool.Close()
	if f := w.failed.Load(); f > 0 {
		t.Errorf("the service client saw %d failed statements, the last: %v", f, w.lastErr.Load())
	}
	if s := time.Duration(w.slowest.Load()); s > 3*time.Second {
		t.Errorf("the service client's slowest statement took %s, want at most 3s", s)
	}
	if w.wrote.Load() == 0 {
		t.Errorf("the service client wrote nothing")
	}
}

func count(t *testing.T, db *pgxpool.Pool, sql string) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(context.Background(), sql).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func columnType(t *testing.T, db *pgxpool.Pool, column string) string {
	t.Helper()
	var typ string
	if err := db.QueryRow(context.Background(), `SELECT format_type(atttypid, atttypmod) FROM pg_attribute
		WHERE attrelid = 'public.symptoms'::regclass AND attname = $1`, column).Scan(&typ); err != nil {
		t.Fatal(err)
	}
	return typ
}

// rollThrough runs the rollout of symptoms end to end with a service client
// writing throughout, and checks every row is kept both ways.
func rollThrough(t *testing.T, b bundle, batch int) {
	t.Helper()
	ctx := context.Background()
	if _, err := b.runner.Plan(ctx, "symptoms", time.Second); err != nil {
		t.Fatalf("plan: %v", err)
	}
	if _, err := b.runner.Start(ctx, "symptoms", rollout.Options{BatchRows: batch}); err == nil || !strings.Contains(err.Error(), "does not hold") {
		t.Fatalf("start without --force and no verdict: %v, want a refusal", err)
	}
	w := startWriter(t, b.dsn)
	before := count(t, b.pool, "SELECT count(*) FROM public.symptoms")
	if _, err := b.runner.Start(ctx, "symptoms", rollout.Options{BatchRows: batch, Force: true}); err != nil {
		w.end(t)
		t.Fatalf("start --force: %v", err)
	}
	v, err := b.runner.Verify(ctx, "symptoms")
	if err != nil || !v.OK() {
		w.end(t)
		t.Fatalf("verify: %v %v", err, v)
	}
	sw, err := b.runner.Swap(ctx, "symptoms")
	if err != nil {
		w.end(t)
		t.Fatalf("swap: %v", err)
	}
	t.Logf("swap held the exclusive lock %s, applied %d log entries under it", sw.LockHeld, sw.Applied)
	// The entries applied under the lock (the client's inserts) are
	// hmperf's writes to the table that now serves, recorded as such.
	if own := count(t, b.pool, "SELECT coalesce(sum(committed), 0)::bigint FROM hmperf.own_writes WHERE root_relid = 'public.symptoms'::regclass"); own != sw.Applied {
		t.Errorf("hmperf.own_writes records %d rows written to the optimized table by the swap, want the %d it applied", own, sw.Applied)
	}
	time.Sleep(300 * time.Millisecond) // the client writes into the optimized table
	if typ := columnType(t, b.pool, "symptom_type"); typ != "symptoms_symptom_type" {
		t.Errorf("after swap symptom_type is %s, want the enum symptoms_symptom_type", typ)
	}
	if v, err := b.runner.Verify(ctx, "symptoms"); err != nil || !v.OK() {
		t.Errorf("verify after swap: %v %v", err, v)
	}
	w.end(t)
	wrote := w.wrote.Load()
	if got := count(t, b.pool, "SELECT count(*) FROM public.symptoms"); got != before+wrote {
		t.Errorf("after swap public.symptoms holds %d rows, want %d before and %d the client wrote", got, before, wrote)
	}
	w = startWriter(t, b.dsn)
	w.wrote.Store(0)
	if _, err := b.runner.Revert(ctx, "symptoms"); err != nil {
		w.end(t)
		t.Fatalf("revert: %v", err)
	}
	time.Sleep(300 * time.Millisecond)
	w.end(t)
	if typ := columnType(t, b.pool, "symptom_type"); typ != "character varying(50)" {
		t.Errorf("after revert symptom_type is %s, want character varying(50)", typ)
	}
	if got := count(t, b.pool, "SELECT count(*) FROM public.symptoms"); got != before+wrote+w.wrote.Load() {
		t.Errorf("after revert public.symptoms holds %d rows, want %d", got, before+wrote+w.wrote.Load())
	}
	if n := count(t, b.pool, "SELECT count(*) FROM pg_class WHERE relnamespace IN ('hmperf_rollout_new'::regnamespace, 'hmperf_rollout_old'::regnamespace)"); n != 0 {
		t.Errorf("after revert %d relations are left in the rollout schemas", n)
	}
}

func TestRolloutSwapRevertOnHmperfDatabase(t *testing.T) {
	t.Parallel()
	b := setup(t, pgtest.NewMigratedDB(t))
	seed(t, b.pool, 3000)
	rollThrough(t, b, 500)
}

// TestKilledBackfillResumes stops a backfill between batches (as a killed
// hmperf leaves it: the batch in flight rolled back), and starts again:
// the second start resumes after the stored high-water key, and the twin
// ends with exactly the live rows, none twice.
func TestKilledBackfillResumes(t *testing.T) {
	t.Parallel()
	b := setup(t, pgtest.NewMigratedDB(t))
	seed(t, b.pool, 4000)
	w := startWriter(t, b.dsn)
	defer w.end(t)
	ctx, kill := context.WithCancel(context.Background())
	var stoppedAt int64
	_, err := b.runner.Start(ctx, "symptoms", rollout.Options{BatchRows: 250, Force: true, OnBatch: func(copied int64) {
		if copied >= 1000 && stoppedAt == 0 {
			stoppedAt = copied
			kill()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("start stopped after %d rows: %v, want context.Canceled", stoppedAt, err)
	}
	st, err := rollout.Open(context.Background(), b.pool, "symptoms")
	if err != nil {
		t.Fatal(err)
	}
	if st.BackfillDone || st.Copied < stoppedAt || len(st.HighWater) != 3 {
		t.Fatalf("state after the kill: done %v, copied %d (stopped at %d), high water %v", st.BackfillDone, st.Copied, stoppedAt, st.HighWater)
	}
	if all, err := rollout.InFlight(context.Background(), b.pool); err != nil || len(all) != 1 || all[0].Rate == nil || *all[0].Rate <= 0 {
		t.Errorf("the dashboard's read of the rollouts in flight: %+v, %v; want one, with its rate", all, err)
	}
	var firstAfterResume int64
	out, err := b.runner.Start(context.Background(), "symptoms", rollout.Options{BatchRows: 250, OnBatch: func(copied int64) {
		if firstAfterResume == 0 {
			firstAfterResume = copied
		}
	}})
	if err != nil {
		t.Fatalf("resumed start: %v", err)
	}
	if !out.Resumed || firstAfterResume > st.Copied+250 || firstAfterResume <= st.Copied {
		t.Errorf("resumed %v, first batch after the resume reached %d rows, want just past the %d stored", out.Resumed, firstAfterResume, st.Copied)
	}
	v, err := b.runner.Verify(context.Background(), "symptoms")
	if err != nil || !v.OK() {
		t.Fatalf("verify after the resumed backfill: %v %+v", err, v)
	}
	if twin, live := count(t, b.pool, "SELECT count(*) FROM hmperf_rollout_new.symptoms"), count(t, b.pool, "SELECT count(*) FROM public.symptoms"); twin > live {
		t.Errorf("the twin holds %d rows, the live table %d: rows were copied twice", twin, live)
	}
	if _, err := b.runner.Revert(context.Background(), "symptoms"); err != nil {
		t.Fatal(err)
	}
}

// TestSwapWaitsForABlocker holds a lock on the live table from another
// session: the swap's lock wait times out, it retries naming the blocker,
// and succeeds once the blocker ends.
func TestSwapWaitsForABlocker(t *testing.T) {
	t.Parallel()
	b := setup(t, pgtest.NewMigratedDB(t))
	seed(t, b.pool, 500)
	ctx := context.Background()
	if _, err := b.runner.Start(ctx, "symptoms", rollout.Options{Force: true}); err != nil {
		t.Fatal(err)
	}
	log, released := holdFor(t, b, "report-reader", "SELECT count(*) FROM public.symptoms", 1500*time.Millisecond)
	sw, err := b.runner.Swap(ctx, "symptoms")
	released()
	if err != nil {
		t.Fatalf("swap: %v", err)
	}
	if got := log.String(); !strings.Contains(got, "lock wait timed out") || !strings.Contains(got, `application "report-reader"`) {
		t.Errorf("the swap's retries do not name the blocker:\n%s", got)
	}
	if sw.LockHeld <= 0 {
		t.Errorf("lock held %s", sw.LockHeld)
	}
	if _, err := b.runner.Revert(ctx, "symptoms"); err != nil {
		t.Fatal(err)
	}
}

// holdFor has a session labelled app run sql in a transaction it keeps
// open for d, and has b's runner log its lock-wait retries to the buffer
// returned; released waits until the transaction has ended.
func holdFor(t *testing.T, b bundle, app, sql string, d time.Duration) (log *syncBuffer, released func()) {
	t.Helper()
	ctx := context.Background()
	tx, err := pgtest.Connect(t, b.dsn, app).Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, sql); err != nil {
		t.Fatal(err)
	}
	log = &syncBuffer{}
	b.runner.Lock.Log = log
	done := make(chan struct{})
	go func() {
		defer close(done)
		time.Sleep(d)
		_ = tx.Rollback(ctx)
	}()
	t.Cleanup(func() { <-done })
	return log, func() { <-done }
}

// syncBuffer is a bytes.Buffer safe for the writer and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestQuarantineAndReturn: rows a NOT VALID CHECK let in are refused by the
// enum built from that CHECK's list. start refuses while they exist,
// --quarantine sets them aside, and revert (after a swap) puts them back,
// with the CHECK NOT VALID as it was.
func TestQuarantineAndReturn(t *testing.T) {
	t.Parallel()
	b := setup(t, pgtest.NewMigratedDB(t))
	seed(t, b.pool, 600)
	ctx := context.Background()
	for _, sql := range []string{
		`ALTER TABLE public.symptoms DROP CONSTRAINT symptoms_severity_check`,
		`INSERT INTO public.symptoms (user_id, recorded_at, symptom_type, severity)
		 SELECT '00000000-0000-0000-0000-000000000019', now() - make_interval(days => 30, mins => g), 'fever', 'unknown' FROM generate_series(1, 3) g`,
		`ALTER TABLE public.symptoms ADD CONSTRAINT symptoms_severity_check CHECK (severity IN ('not_present', 'mild', 'moderate', 'severe')) NOT VALID`,
		// A NOT VALID range the twin keeps: its older rows are refused too.
		`ALTER TABLE public.symptoms DROP CONSTRAINT symptoms_duration_minutes_check`,
		`INSERT INTO public.symptoms (user_id, recorded_at, symptom_type, severity, duration_minutes)
		 VALUES ('00000000-0000-0000-0000-000000000019', now() - interval '40 days', 'cough', 'mild', 20000)`,
		`ALTER TABLE public.symptoms ADD CONSTRAINT symptoms_duration_minutes_check
		 CHECK (duration_minutes IS NULL OR (duration_minutes >= 0 AND duration_minutes <= 10080)) NOT VALID`,
	} {
		if _, err := b.pool.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	checkDef := func() string {
		var def string
		if err := b.pool.QueryRow(ctx, `SELECT pg_get_constraintdef(oid) FROM pg_constraint
			WHERE conrelid = 'public.symptoms'::regclass AND conname = 'symptoms_severity_check'`).Scan(&def); err != nil {
			t.Fatal(err)
		}
		return def
	}
	before, defBefore := count(t, b.pool, "SELECT count(*) FROM public.symptoms"), checkDef()
	baseline(t, b, before)
	_, err := b.runner.Start(ctx, "symptoms", rollout.Options{Force: true})
	if err == nil || !strings.Contains(err.Error(), "3 rows the new layout refuses") || !strings.Contains(err.Error(), "'unknown'") ||
		!strings.Contains(err.Error(), "1 row the new layout refuses (the twin keeps CHECK symptoms_duration_minutes_check") {
		t.Fatalf("start with refused rows and no --quarantine: %v, want a refusal naming the 3 rows and the 1", err)
	}
	// A transaction of the service's holds one of the refused rows: the
	// move waits for it, each attempt under lock_timeout, naming it.
	log, released := holdFor(t, b, "service-updater", "SELECT * FROM public.symptoms WHERE severity = 'unknown' LIMIT 1 FOR UPDATE", 1500*time.Millisecond)
	out, err := b.runner.Start(ctx, "symptoms", rollout.Options{Force: true, Quarantine: true})
	released()
	if err != nil {
		t.Fatal(err)
	}
	if got := log.String(); !strings.Contains(got, "set aside the rows the new layout of public.symptoms refuses: lock wait timed out") ||
		!strings.Contains(got, `application "service-updater"`) {
		t.Errorf("the quarantine's retries do not name the row's holder:\n%s", got)
	}
	if out.State.Quarantined != 4 || out.State.Quarantine != `"hmperf"."rollout_quarantine_symptoms"` {
		t.Errorf("quarantine: %d rows in %s, want 4 in hmperf.rollout_quarantine_symptoms", out.State.Quarantined, out.State.Quarantine)
	}
	if got := count(t, b.pool, "SELECT count(*) FROM hmperf.rollout_quarantine_symptoms"); got != 4 {
		t.Errorf("the quarantine holds %d rows, want 4", got)
	}
	if _, err := b.runner.Swap(ctx, "symptoms"); err != nil {
		t.Fatal(err)
	}
	rv, err := b.runner.Revert(ctx, "symptoms")
	if err != nil {
		t.Fatal(err)
	}
	if rv.Returned != 4 {
		t.Errorf("revert returned %d rows, want 4", rv.Returned)
	}
	// Set aside and put back by hmperf, the rows are not the service
	// writing them again.
	if got := sampleSymptoms(t, b); got.Rows != 0 || got.HmperfRows != 4 {
		t.Errorf("after revert the sample of symptoms is %+v; want none of the service's rows and hmperf's 4", got)
	}
	if got := count(t, b.pool, "SELECT count(*) FROM public.symptoms WHERE duration_minutes = 20000"); got != 1 {
		t.Errorf("after revert %d rows with the out-of-range duration are back, want 1", got)
	}
	if got := count(t, b.pool, "SELECT count(*) FROM public.symptoms"); got != before {
		t.Errorf("after revert public.symptoms holds %d rows, want the %d it had", got, before)
	}
	if got := count(t, b.pool, "SELECT count(*) FROM public.symptoms WHERE severity = 'unknown'"); got != 3 {
		t.Errorf("after revert %d refused rows are back, want 3", got)
	}
	// Re-added from its printed definition, the CHECK is stored as the
	// server parses that text, which prints its casts differently: the
	// same list, NOT VALID as before.
	got := checkDef()
	listAfter, ok1 := rollout.ParseList(got, "severity")
	listBefore, ok2 := rollout.ParseList(defBefore, "severity")
	if !ok1 || !ok2 || !slices.Equal(listAfter, listBefore) || !strings.HasSuffix(got, " NOT VALID") {
		t.Errorf("the CHECK after revert is %q, want the list of %q, NOT VALID", got, defBefore)
	}
}

// TestFinishDropsTheOriginal: after a swap, finish drops the original
// table, the capture and the log; the optimized table stays, with every row.
func TestFinishDropsTheOriginal(t *testing.T) {
	t.Parallel()
	b := setup(t, pgtest.NewMigratedDB(t))
	seed(t, b.pool, 800)
	ctx := context.Background()
	if _, err := b.runner.Finish(ctx, "symptoms"); !errors.Is(err, rollout.ErrNoRollout) {
		t.Fatalf("finish with no rollout: %v, want ErrNoRollout", err)
	}
	if _, err := b.runner.Start(ctx, "symptoms", rollout.Options{Force: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.runner.Finish(ctx, "symptoms"); err == nil {
		t.Fatal("finish before the swap succeeded, want a refusal")
	}
	if _, err := b.runner.Swap(ctx, "symptoms"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.runner.Finish(ctx, "symptoms"); err != nil {
		t.Fatal(err)
	}
	if n := count(t, b.pool, "SELECT count(*) FROM public.symptoms"); n != 800 {
		t.Errorf("after finish public.symptoms holds %d rows, want 800", n)
	}
	if typ := columnType(t, b.pool, "symptom_type"); typ != "symptoms_symptom_type" {
		t.Errorf("after finish symptom_type is %s", typ)
	}
	left := count(t, b.pool, `SELECT count(*) FROM pg_class WHERE relnamespace IN ('hmperf_rollout_new'::regnamespace, 'hmperf_rollout_old'::regnamespace)
		OR (relnamespace = 'hmperf'::regnamespace AND relname LIKE 'rollout\_log\_%')`)
	triggers := count(t, b.pool, "SELECT count(*) FROM pg_trigger WHERE tgname = 'hmperf_rollout_capture'")
	if left != 0 || triggers != 0 {
		t.Errorf("after finish %d relations and %d capture triggers are left", left, triggers)
	}
	if st, err := rollout.Latest(ctx, b.pool, "symptoms"); err != nil || st.Phase != rollout.PhaseFinished {
		t.Errorf("state after finish: %+v, %v", st, err)
	}
}
