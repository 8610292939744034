package ingest_test

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"hmperf/engine"
	"hmperf/queries/ingest"
	"hmperf/queries/pgtest"
)

// BenchmarkIdempotentImport measures what skipping stored keys costs: the
// same payload of heart-rate records (HMPERF_BENCH_ROWS, default 20,000)
// imported, in batches of 5,000, into the service's heart_rate_metrics
// holding 200,000 rows, three ways: with a unique index on (user_id,
// recorded_at) (ON CONFLICT, unchanged by the anti-join); with the plain
// index the service has, as hmperf wrote it before (a straight COPY, which
// stores a re-sent record again); and the same table as hmperf writes it
// now (the anti-join). Then the same payload again, every record a
// duplicate. Repetitions (HMPERF_BENCH_REPS, default 5) interleave the
// three; each uses fresh users, so a first import meets no stored key.
// It reports the median rows/s of each and the ratios to the unique key
// and to before. Run it with -benchtime=1x.
func BenchmarkIdempotentImport(b *testing.B) {
	n, reps := envInt("HMPERF_BENCH_ROWS", 20000), envInt("HMPERF_BENCH_REPS", 5)
	before := func(in *ingest.Ingester) { ingest.AssumeUniqueKey(in, engine.KindHeartRate) }
	ways := []struct {
		name   string
		ddl    string
		adjust []func(*ingest.Ingester)
	}{
		{"key", "DROP INDEX idx_heart_rate_user_recorded; CREATE UNIQUE INDEX hr_key ON heart_rate_metrics (user_id, recorded_at)", nil},
		{"nokey_before", "", []func(*ingest.Ingester){before}},
		{"nokey_antijoin", "", nil},
	}
	pools := make([]*pgxpool.Pool, len(ways))
	for i, w := range ways {
		dsn := pgtest.NewDB(b)
		pgtest.LoadSQLFile(b, dsn, "../catalog/testdata/service_layout.sql")
		pools[i] = adoptDSN(b, dsn)
		prefill(b, pools[i], w.ddl)
	}
	for range b.N {
		first := make([][]float64, len(ways))
		again := make([][]float64, len(ways))
		for range reps {
			for i, w := range ways {
				payload, _ := heartRateFile(b, pools[i], n)
				first[i] = append(first[i], timedImport(b, pools[i], payload, n, w.adjust))
				again[i] = append(again[i], timedImport(b, pools[i], payload, n, w.adjust))
			}
		}
		for i, w := range ways {
			b.ReportMetric(median(first[i]), "first_"+w.name+"_rows/s")
			b.ReportMetric(median(again[i]), "again_"+w.name+"_rows/s")
		}
		b.ReportMetric(median(first[2])/median(first[0]), "first_antijoin/key")
		b.ReportMetric(median(first[2])/median(first[1]), "first_antijoin/before")
		b.ReportMetric(median(again[2])/median(again[0]), "again_antijoin/key")
		b.ReportMetric(median(again[2])/median(again[1]), "again_antijoin/before")
	}
}

// prefill applies ddl and stores 200,000 heart rates of 100 users of its
// own, so the key's index has the depth of a table in use.
func prefill(b *testing.B, pool *pgxpool.Pool, ddl string) {
	b.Helper()
	ctx := context.Background()
	if ddl != "" {
		if _, err := pool.Exec(ctx, ddl); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := pool.Exec(ctx, `
		WITH u AS (INSERT INTO users (email) SELECT 'prefill-' || g || '@example.invalid' FROM generate_series(1, 100) g RETURNING id)
		INSERT INTO heart_rate_metrics (user_id, recorded_at, heart_rate, source_device)
		SELECT u.id, now() - make_interval(secs => g * 13), 60 + g % 60, 'Apple Watch' FROM u, generate_series(1, 2000) g;
		ANALYZE heart_rate_metrics`); err != nil {
		b.Fatal(err)
	}
}

// timedImport imports payload and returns its records per second.
func timedImport(b *testing.B, pool *pgxpool.Pool, payload []byte, n int, adjust []func(*ingest.Ingester)) float64 {
	b.Helper()
	start := time.Now()
	if _, err := importFile(b, pool, bytes.NewReader(payload), engine.DefaultPolicy(), 5000, adjust...); err != nil {
		b.Fatal(err)
	}
	return float64(n) / time.Since(start).Seconds()
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
