package main

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// TestRolloutOnServiceDump is issue 19's check: on the service's own database, adopted, with 20,000 symptoms rows
// and a service client inserting throughout, plan, a refused start,
// start --force, verify and swap succeed; the client sees no failed
// statement and none slower than 3 s; public.symptoms then has enum
// columns and every row; revert brings the original layout back with
// every row.
// (The project's own fixture of the service has no list CHECK on
// symptoms, so there is nothing to roll out; queries/rollout's tests run
// the same path on hmperf's own database.)
func TestRolloutOnServiceDump(t *testing.T) {
	t.Parallel()
	rolloutEndToEnd(t, serviceDumpDB(t))
}

func rolloutEndToEnd(t *testing.T, dsn string) {
	ctx := context.Background()
	if r := runCmd(ctx, "", "migrate", "adopt", "--yes", "--dsn", dsn); r.code != 0 {
		t.Fatalf("adopt: exit %d\n%s", r.code, r.stderr)
	}
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`INSERT INTO public.users (id, email) VALUES ('00000000-0000-0000-0000-000000000019', 'rollout@example.org')`)
	exec(`INSERT INTO public.symptoms (user_id, recorded_at, symptom_type, severity, notes)
		SELECT '00000000-0000-0000-0000-000000000019', date_trunc('minute', now()) - make_interval(mins => g),
		       (ARRAY['fever', 'cough', 'nausea', 'headache'])[1 + g % 4], (ARRAY['mild', 'moderate', 'severe'])[1 + g % 3], 'seeded'
		  FROM generate_series(1, 20000) g`)
	client := startSymptomsClient(t, dsn)
	step := func(want int, args ...string) result {
		t.Helper()
		r := runCmd(ctx, "", append(append([]string{"rollout"}, args...), "--dsn", dsn, "--batch-rows", "2000")...)
		if r.code != want {
			client.stop(t)
			t.Fatalf("rollout %s: exit %d, want %d\n%s%s", strings.Join(args, " "), r.code, want, r.stdout, r.stderr)
		}
		return r
	}
	plan := step(0, "plan", "symptoms")
	if !strings.Contains(plan.stdout, "enum symptoms_symptom_type (68 values)") {
		t.Errorf("plan does not show the enum of the live CHECK's 68 values:\n%s", plan.stdout)
	}
	refused := step(1, "start", "symptoms")
	if !strings.Contains(refused.stderr, "does not hold") {
		t.Errorf("start without --force: %s", refused.stderr)
	}
	step(0, "start", "symptoms", "--force")
	step(0, "verify", "symptoms")
	swap := step(0, "swap", "symptoms")
	t.Logf("%s", swap.stdout)
	time.Sleep(500 * time.Millisecond) // the client writes into the optimized table
	// The service's own partition function still works on the optimized
	// table (it builds a BRIN index on symptom_type); revert takes the
	// new partitions back with it.
	exec(`SELECT public.create_symptoms_monthly_partitions(0, 8)`)
	wrote := client.stop(t)
	if typ := typeOf(t, pool, "symptom_type"); typ != "symptoms_symptom_type" {
		t.Errorf("after swap public.symptoms.symptom_type is %s, want the enum", typ)
	}
	if typ := typeOf(t, pool, "severity"); typ != "symptoms_severity" {
		t.Errorf("after swap public.symptoms.severity is %s, want the enum", typ)
	}
	if got := countRows(t, pool); got != 20000+wrote {
		t.Errorf("after swap public.symptoms holds %d rows, want the 20000 seeded and the %d the client wrote", got, wrote)
	}
	client = startSymptomsClient(t, dsn)
	step(0, "revert", "symptoms")
	time.Sleep(300 * time.Millisecond)
	more := client.stop(t)
	if typ := typeOf(t, pool, "symptom_type"); typ != "character varying(50)" {
		t.Errorf("after revert public.symptoms.symptom_type is %s, want character varying(50)", typ)
	}
	if got := countRows(t, pool); got != 20000+wrote+more {
		t.Errorf("after revert public.symptoms holds %d rows, want %d", got, 20000+wrote+more)
	}
}

func typeOf(t *testing.T, db *pgxpool.Pool, column string) string {
	t.Helper()
	var typ string
	if err := db.QueryRow(context.Background(), `SELECT format_type(atttypid, atttypmod) FROM pg_attribute
		WHERE attrelid = 'public.symptoms'::regclass AND attname = $1`, column).Scan(&typ); err != nil {
		t.Fatal(err)
	}
	return typ
}

func countRows(t *testing.T, db *pgxpool.Pool) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(context.Background(), "SELECT count(*) FROM public.symptoms").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// symptomsClient inserts a symptoms row every 10 ms, as the service does,
// with a bound text parameter, and counts what it wrote, what failed and
// its slowest statement.
type symptomsClient struct {
	pool          *pgxpool.Pool
	wrote, failed atomic.Int64
	slowest       atomic.Int64
	lastErr       atomic.Value
	done          chan struct{}
	wg            sync.WaitGroup
}

func startSymptomsClient(t *testing.T, dsn string) *symptomsClient {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 1
	cfg.ConnConfig.RuntimeParams["application_name"] = "health-metrics-ingest"
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := &symptomsClient{pool: pool, done: make(chan struct{})}
	c.wg.Add(1)
	go c.run()
	return c
}

func (c *symptomsClient) run() {
	defer c.wg.Done()
	for {
		select {
		case <-c.done:
			return
		case <-time.After(10 * time.Millisecond):
		}
		start := time.Now()
		_, err := c.pool.Exec(context.Background(), `INSERT INTO symptoms (user_id, recorded_at, symptom_type, severity, notes)
			VALUES ('00000000-0000-0000-0000-000000000019', clock_timestamp() - interval '1 hour', $1::text, 'mild', 'client')`, "fatigue")
		if d := time.Since(start).Nanoseconds(); d > c.slowest.Load() {
			c.slowest.Store(d)
		}
		if err != nil {
			c.failed.Add(1)
			c.lastErr.Store(err.Error())
			continue
		}
		c.wrote.Add(1)
	}
}

// stop ends the client, checks it saw no failure and no statement slower
// than 3 s, and returns how many rows it wrote.
func (c *symptomsClient) stop(t *testing.T) int64 {
	t.Helper()
	select {
	case <-c.done:
		return c.wrote.Load()
	default:
	}
	close(c.done)
	c.wg.Wait()
	c.pool.Close()
	if n := c.failed.Load(); n > 0 {
		t.Errorf("the service client saw %d failed statements, the last: %v", n, c.lastErr.Load())
	}
	if s := time.Duration(c.slowest.Load()); s > 3*time.Second {
		t.Errorf("the service client's slowest statement took %s, want at most 3s", s)
	}
	t.Logf("service client: %d rows, slowest statement %s", c.wrote.Load(), time.Duration(c.slowest.Load()))
	return c.wrote.Load()
}

// TestRolloutDesignsOnServiceDump rolls nutrition_metrics and
// activity_metrics_v2 out and back on the service's own database, adopted,
// with 2,000 rows each: plan shows the design, start --force, verify and
// swap give the optimized layout with every row, revert the original.
func TestRolloutDesignsOnServiceDump(t *testing.T) {
	t.Parallel()
	dsn := serviceDumpDB(t)
	ctx := context.Background()
	if r := runCmd(ctx, "", "migrate", "adopt", "--yes", "--dsn", dsn); r.code != 0 {
		t.Fatalf("adopt: exit %d\n%s", r.code, r.stderr)
	}
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	const user = `'00000000-0000-0000-0000-000000000019'`
	for _, c := range []struct{ table, seed, column, plan, swapped string }{
		{"nutrition_metrics", `INSERT INTO public.nutrition_metrics (user_id, recorded_at, protein_g, aggregation_period)
			SELECT ` + user + `, date_trunc('minute', now()) - make_interval(mins => g), g % 1000, 'daily' FROM generate_series(1, 2000) g`,
			"protein_g", "domain nutrition_metrics_protein_g (", "nutrition_metrics_protein_g"},
		{"activity_metrics_v2", `INSERT INTO public.activity_metrics_v2 (user_id, recorded_at, step_count, aggregation_period)
			SELECT ` + user + `, date_trunc('minute', now()) - make_interval(mins => g), g * 10, 'daily' FROM generate_series(1, 2000) g`,
			"step_count", "validation function validate_activity_metrics_v2(", ""},
	} {
		for _, sql := range []string{`INSERT INTO public.users (id, email) VALUES (` + user + `, 'rollout@example.org') ON CONFLICT DO NOTHING`, c.seed} {
			if _, err := pool.Exec(ctx, sql); err != nil {
				t.Fatalf("%s: %v", sql, err)
			}
		}
		step := func(args ...string) result {
			t.Helper()
			r := runCmd(ctx, "", append(append([]string{"rollout"}, args...), "--dsn", dsn, "--batch-rows", "500")...)
			if r.code != 0 {
				t.Fatalf("rollout %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
			}
			return r
		}
		if plan := step("plan", c.table); !strings.Contains(plan.stdout, c.plan) {
			t.Errorf("plan %s does not show %q:\n%s", c.table, c.plan, plan.stdout)
		}
		original := columnTypeOf(t, pool, c.table, c.column)
		step("start", c.table, "--force")
		step("verify", c.table)
		step("swap", c.table)
		validated := count(t, pool, `SELECT count(*) FROM pg_constraint WHERE conrelid = 'public.`+c.table+`'::regclass AND conname = 'validate_`+c.table+`'`)
		if want := c.swapped; want != "" && columnTypeOf(t, pool, c.table, c.column) != want || validated != 1 {
			t.Errorf("after swap %s.%s is %s and %d validation CHECKs, want %q and 1", c.table, c.column, columnTypeOf(t, pool, c.table, c.column), validated, want)
		}
		if n := count(t, pool, "SELECT count(*) FROM public."+c.table); n != 2000 {
			t.Errorf("after swap %s holds %d rows, want 2000", c.table, n)
		}
		step("revert", c.table)
		if typ := columnTypeOf(t, pool, c.table, c.column); typ != original {
			t.Errorf("after revert %s.%s is %s, want %s", c.table, c.column, typ, original)
		}
		if n := count(t, pool, "SELECT count(*) FROM public."+c.table); n != 2000 {
			t.Errorf("after revert %s holds %d rows, want 2000", c.table, n)
		}
	}
}

func columnTypeOf(t *testing.T, db *pgxpool.Pool, table, column string) string {
	t.Helper()
	var typ string
	if err := db.QueryRow(context.Background(), `SELECT format_type(atttypid, atttypmod) FROM pg_attribute
		WHERE attrelid = ('public.' || $1)::regclass AND attname = $2`, table, column).Scan(&typ); err != nil {
		t.Fatal(err)
	}
	return typ
}

func count(t *testing.T, db *pgxpool.Pool, sql string) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(context.Background(), sql).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}
