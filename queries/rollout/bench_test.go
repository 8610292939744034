package rollout_test

import (
	"context"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"hmperf/queries/pgtest"
	"hmperf/queries/rollout"
)

// BenchmarkRollout measures, side by side on hmperf's own database with
// HMPERF_BENCH_ROWS symptoms rows (default 50,000), HMPERF_BENCH_REPS
// repetitions (default 3), each on a fresh database: one plain
// INSERT ... SELECT into the twin, then the backfill's rows/s (start:
// capture, batches and catch-up); a service client's insert latency (p50,
// p99, max) with no rollout running, during the backfill and during the
// swap; and how long the swap held its exclusive lock. It reports the
// median of the repetitions and logs every repetition's figures. Run it
// once:
//
//	go test ./queries/rollout -run '^$' -bench BenchmarkRollout -benchtime 1x -v
func BenchmarkRollout(b *testing.B) {
	rows, reps := envInt(b, "HMPERF_BENCH_ROWS", 50000), envInt(b, "HMPERF_BENCH_REPS", 3)
	for range b.N {
		all := map[string][]float64{}
		for rep := range reps {
			m := benchRollout(b, rows)
			b.Logf("repetition %d: %v", rep+1, m)
			for k, v := range m {
				all[k] = append(all[k], v)
			}
		}
		for k, vs := range all {
			slices.Sort(vs)
			b.ReportMetric(vs[len(vs)/2], k)
			b.Logf("%s: median %.2f, min %.2f, max %.2f, n=%d", k, vs[len(vs)/2], vs[0], vs[len(vs)-1], len(vs))
		}
	}
}

func envInt(b *testing.B, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive integer", name, s)
	}
	return n
}

func benchRollout(b *testing.B, rows int) map[string]float64 {
	ctx := context.Background()
	bb := setup(b, pgtest.NewMigratedDB(b))
	seed(b, bb.pool, rows)
	if _, err := bb.pool.Exec(ctx, "VACUUM ANALYZE public.symptoms"); err != nil {
		b.Fatal(err)
	}
	plainRows, plainTook, err := bb.runner.PlainCopy(ctx, "symptoms")
	if err != nil {
		b.Fatal(err)
	}
	c := startTimedClient(b, bb.dsn)
	c.phase("idle")
	time.Sleep(3 * time.Second)
	c.phase("backfill")
	start := time.Now()
	if _, err := bb.runner.Start(ctx, "symptoms", rollout.Options{BatchRows: 1000, Force: true}); err != nil {
		b.Fatal(err)
	}
	took := time.Since(start)
	c.phase("swap")
	sw, err := bb.runner.Swap(ctx, "symptoms")
	if err != nil {
		b.Fatal(err)
	}
	c.phase("after")
	time.Sleep(500 * time.Millisecond)
	lat := c.stop(b)
	m := map[string]float64{
		"backfill_rows/s":            float64(rows) / took.Seconds(),
		"plain_insert_select_rows/s": float64(plainRows) / plainTook.Seconds(),
		"swap_lock_ms":               float64(sw.LockHeld.Microseconds()) / 1000,
	}
	for _, phase := range []string{"idle", "backfill", "swap"} {
		ds := lat[phase]
		m[phase+"_p50_ms"] = ms(percentile(ds, 0.50))
		m[phase+"_p99_ms"] = ms(percentile(ds, 0.99))
		m[phase+"_max_ms"] = ms(percentile(ds, 1))
		m[phase+"_statements"] = float64(len(ds))
	}
	return m
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// percentile is the nearest-rank percentile p of ds (0 for none).
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(ds))
	i := int(p*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// timedClient inserts a symptoms row every 5 ms, as the service does, and
// keeps each statement's latency under the phase it started in.
type timedClient struct {
	pool *pgxpool.Pool
	mu   sync.Mutex
	cur  string
	lat  map[string][]time.Duration
	fail int
	done chan struct{}
	wg   sync.WaitGroup
}

func startTimedClient(b *testing.B, dsn string) *timedClient {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		b.Fatal(err)
	}
	cfg.MaxConns = 1
	cfg.ConnConfig.RuntimeParams["application_name"] = "service"
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	c := &timedClient{pool: pool, lat: map[string][]time.Duration{}, done: make(chan struct{})}
	c.wg.Add(1)
	go c.run()
	return c
}

func (c *timedClient) phase(p string) {
	c.mu.Lock()
	c.cur = p
	c.mu.Unlock()
}

func (c *timedClient) run() {
	defer c.wg.Done()
	for {
		select {
		case <-c.done:
			return
		case <-time.After(5 * time.Millisecond):
		}
		c.mu.Lock()
		phase := c.cur
		c.mu.Unlock()
		start := time.Now()
		_, err := c.pool.Exec(context.Background(), `INSERT INTO symptoms (user_id, recorded_at, symptom_type, severity, notes)
			VALUES ('00000000-0000-0000-0000-000000000019', clock_timestamp() - interval '1 hour', $1::text, 'mild', 'client')`, "fatigue")
		d := time.Since(start)
		c.mu.Lock()
		if err != nil {
			c.fail++
		} else {
			c.lat[phase] = append(c.lat[phase], d)
		}
		c.mu.Unlock()
	}
}

func (c *timedClient) stop(b *testing.B) map[string][]time.Duration {
	close(c.done)
	c.wg.Wait()
	c.pool.Close()
	if c.fail > 0 {
		b.Errorf("the service client saw %d failed statements", c.fail)
	}
	return c.lat
}
