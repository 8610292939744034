package rollout_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"hmperf/queries/pgtest"
	"hmperf/queries/rollout"
)

// BenchmarkRollout measures, side by side in one run on hmperf's own
// database with benchRows symptoms rows: the backfill's rows/s (start,
// capture and catch-up included) against one plain INSERT ... SELECT into
// the same twin; a service client's insert latency (p50, p99, max) with no
// rollout running, during the backfill and during the swap; and how long
// the swap held its exclusive lock. Run it once:
//
//	go test ./queries/rollout -run '^$' -bench BenchmarkRollout -benchtime 1x
func BenchmarkRollout(b *testing.B) {
	for range b.N {
		benchRollout(b)
	}
}

const benchRows = 100000

func benchRollout(b *testing.B) {
	ctx := context.Background()
	bb := setup(b, pgtest.NewMigratedDB(b))
	seed(b, bb.pool, benchRows)
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
	b.ReportMetric(float64(benchRows)/took.Seconds(), "backfill_rows/s")
	b.ReportMetric(float64(plainRows)/plainTook.Seconds(), "plain_insert_select_rows/s")
	b.ReportMetric(float64(sw.LockHeld.Microseconds())/1000, "swap_lock_ms")
	for _, phase := range []string{"idle", "backfill", "swap"} {
		ds := lat[phase]
		b.ReportMetric(ms(percentile(ds, 0.50)), phase+"_p50_ms")
		b.ReportMetric(ms(percentile(ds, 0.99)), phase+"_p99_ms")
		b.ReportMetric(ms(percentile(ds, 1)), phase+"_max_ms")
		b.ReportMetric(float64(len(ds)), phase+"_statements")
	}
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
