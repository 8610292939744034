package rollout_test

import (
	"context"
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

func setup(t *testing.T, dsn string) bundle {
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
func seed(t *testing.T, db *pgxpool.Pool, n int) {
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
