package ingest_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"hmperf/engine"
	"hmperf/queries/ingest"
	"hmperf/queries/pgtest"
)

// benchRows is the number of rows BenchmarkIngestVsCopyVsInsert writes per
// method and repetition; HMPERF_BENCH_ROWS overrides the 1,000,000 default.
func benchRows(b *testing.B) int {
	if s := os.Getenv("HMPERF_BENCH_ROWS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("HMPERF_BENCH_ROWS=%q: want a positive integer", s)
		}
		return n
	}
	return 1_000_000
}

// BenchmarkIngestVsCopyVsInsert writes the same generated heart-rate rows
// four ways, interleaved (A B C D A B C D A B C D), each into an emptied
// table:
//
//   - ingest: hmperf's path (validation, dedup, COPY, stats) in batches,
//     the users foreign key checked once per user and batch (fkcheck.go);
//   - ingest_rowfk: the same with PostgreSQL's per-row foreign-key checks;
//   - copy: one raw COPY of every row, no engine: the floor;
//   - insert: parameter-chunked multi-row INSERT … ON CONFLICT DO NOTHING,
//     what the original service did (chunks of 80% of the 65,535-parameter
//     limit, one transaction per batch).
//
// It reports each method's median rows/s and the ratios of both ingest
// variants to copy and to insert, measured side by side in one run.
//
//	go test ./queries/ingest -run '^$' -bench IngestVsCopyVsInsert -benchtime 1x
func BenchmarkIngestVsCopyVsInsert(b *testing.B) {
	n := benchRows(b)
	pool := newBenchPool(b)
	recs := generateHeartRates(b, n)
	methods := []struct {
		name string
		run  func(ctx context.Context) error
	}{
		{"ingest", func(ctx context.Context) error { return ingestAll(ctx, pool, recs, false) }},
		{"ingest_rowfk", func(ctx context.Context) error { return ingestAll(ctx, pool, recs, true) }},
		{"copy", func(ctx context.Context) error { return copyAll(ctx, pool, recs) }},
		{"insert", func(ctx context.Context) error { return insertChunked(ctx, pool, recs) }},
	}
	rates := make([][]float64, len(methods))
	b.ResetTimer()
	for range b.N {
		for rep := 0; rep < 3; rep++ {
			for i, m := range methods {
				resetTables(b, pool)
				start := time.Now()
				if err := m.run(context.Background()); err != nil {
					b.Fatalf("%s: %v", m.name, err)
				}
				rates[i] = append(rates[i], float64(n)/time.Since(start).Seconds())
			}
		}
	}
	b.StopTimer()
	med := make([]float64, len(methods))
	for i, m := range methods {
		med[i] = median(rates[i])
		b.ReportMetric(med[i], m.name+"_rows/s")
	}
	b.ReportMetric(med[0]/med[2], "ingest/copy")
	b.ReportMetric(med[0]/med[3], "ingest/insert")
	b.ReportMetric(med[1]/med[2], "ingest_rowfk/copy")
	b.ReportMetric(med[1]/med[3], "ingest_rowfk/insert")
}

func newBenchPool(b *testing.B) *pgxpool.Pool {
	b.Helper()
	pool, err := pgxpool.New(context.Background(), pgtest.NewMigratedDB(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	return pool
}

func generateHeartRates(b *testing.B, n int) []engine.Record {
	b.Helper()
	g, err := engine.NewGenerator(engine.GenConfig{Seed: 42, Types: []engine.Kind{engine.KindHeartRate}, End: fixedEnd, Users: 200, Span: 3 * 365 * 24 * time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	seen := map[engine.Key]bool{}
	recs := make([]engine.Record, 0, n)
	for len(recs) < n {
		s := g.Next()
		if k := s.Record.DedupKey(); !seen[k] {
			seen[k] = true
			recs = append(recs, s.Record)
		}
	}
	return recs
}

func resetTables(b *testing.B, pool *pgxpool.Pool) {
	b.Helper()
	if _, err := pool.Exec(context.Background(), "TRUNCATE heart_rate_metrics, hmperf.ingest_batch_stats, hmperf.ingest_rejections"); err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(context.Background(), "VACUUM ANALYZE heart_rate_metrics"); err != nil {
		b.Fatal(err)
	}
}

const benchBatch = 10_000

func ingestAll(ctx context.Context, pool *pgxpool.Pool, recs []engine.Record, rowFK bool) error {
	cache, err := engine.NewCache(10000, time.Hour, time.Now)
	if err != nil {
		return err
	}
	in, err := ingest.New(pool, ingest.Options{Context: engine.ContextBulkImport, Validator: engine.NewValidator(engine.DefaultRules(), engine.DefaultPolicy(), cache), Cache: cache, Writers: benchWriters(), RowFKChecks: rowFK, CreateUsers: true})
	if err != nil {
		return err
	}
	batches := func(yield func([]ingest.Item) bool) {
		items := make([]ingest.Item, 0, benchBatch)
		for off := 0; off < len(recs); off += benchBatch {
			items = items[:0]
			for i, r := range recs[off:min(off+benchBatch, len(recs))] {
				items = append(items, ingest.Item{Index: int64(off + i), Record: r})
			}
			if !yield(items) {
				return
			}
		}
	}
	if err := ingest.RunBatches(ctx, in, batches, nil); err != nil {
		return err
	}
	if tot := in.Totals(); tot.Inserted != int64(len(recs)) {
		return fmt.Errorf("ingest inserted %d of %d", tot.Inserted, len(recs))
	}
	return nil
}

func copyAll(ctx context.Context, pool *pgxpool.Pool, recs []engine.Record) error {
	tbl := engine.TableOf(engine.KindHeartRate)
	users := map[engine.UUID]bool{}
	for _, r := range recs {
		users[r.UserID()] = true
	}
	ids := make([][16]byte, 0, len(users))
	for u := range users {
		ids = append(ids, u)
	}
	if _, err := pool.Exec(ctx, "INSERT INTO users (id) SELECT unnest($1::uuid[]) ON CONFLICT DO NOTHING", ids); err != nil {
		return err
	}
	var buf []any
	_, err := pool.CopyFrom(ctx, pgx.Identifier{tbl.Name}, tbl.ColumnNames(), pgx.CopyFromSlice(len(recs), func(i int) ([]any, error) {
		buf = recs[i].AppendValues(buf[:0])
		return buf, nil
	}))
	return err
}

func insertChunked(ctx context.Context, pool *pgxpool.Pool, recs []engine.Record) error {
	tbl := engine.TableOf(engine.KindHeartRate)
	cols := tbl.ColumnNames()
	perChunk := 52428 / len(cols)
	for off := 0; off < len(recs); off += benchBatch {
		batch := recs[off:min(off+benchBatch, len(recs))]
		if err := insertBatch(ctx, pool, tbl, cols, batch, perChunk); err != nil {
			return err
		}
	}
	return nil
}

func insertBatch(ctx context.Context, pool *pgxpool.Pool, tbl *engine.Table, cols []string, batch []engine.Record, perChunk int) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	users := map[engine.UUID]bool{}
	var ids [][16]byte
	for _, r := range batch {
		if u := r.UserID(); !users[u] {
			users[u] = true
			ids = append(ids, u)
		}
	}
	if _, err := tx.Exec(ctx, "INSERT INTO users (id) SELECT unnest($1::uuid[]) ON CONFLICT DO NOTHING", ids); err != nil {
		return err
	}
	for off := 0; off < len(batch); off += perChunk {
		chunk := batch[off:min(off+perChunk, len(batch))]
		sql, args := multiRowInsert(tbl, cols, chunk)
		if _, err := tx.Exec(ctx, sql, args...); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

func multiRowInsert(tbl *engine.Table, cols []string, chunk []engine.Record) (string, []any) {
	var sb strings.Builder
	fmt.Fprintf(&sb, "INSERT INTO %s (%s) VALUES ", tbl.Name, strings.Join(cols, ", "))
	args := make([]any, 0, len(chunk)*len(cols))
	for i, r := range chunk {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteByte('(')
		for j := range cols {
			if j > 0 {
				sb.WriteString(", ")
			}
			fmt.Fprintf(&sb, "$%d", len(args)+j+1)
		}
		sb.WriteByte(')')
		args = r.AppendValues(args)
	}
	fmt.Fprintf(&sb, " ON CONFLICT (%s) DO NOTHING", strings.Join(tbl.Key, ", "))
	return sb.String(), args
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// benchWriters is the ingest's concurrent writers; HMPERF_BENCH_WRITERS
// overrides the default.
func benchWriters() int {
	n, _ := strconv.Atoi(os.Getenv("HMPERF_BENCH_WRITERS"))
	return n
}

// BenchmarkIngestFile imports a payload of generated heart-rate records in
// the ingest service's JSON format (HMPERF_BENCH_ROWS records, 300,000 by
// default) into an emptied table, as `hmperf ingest --file` does, and
// decodes the same bytes without writing, so that one run shows whether the
// decoder or the database bounds a file import.
//
//	go test ./queries/ingest -run '^$' -bench IngestFile -benchtime 3x
func BenchmarkIngestFile(b *testing.B) {
	n := 300_000
	if os.Getenv("HMPERF_BENCH_ROWS") != "" {
		n = benchRows(b)
	}
	pool := newBenchPool(b)
	payload := heartRatePayload(generateHeartRates(b, n))
	var importSecs, decodeSecs float64
	for b.Loop() {
		resetTables(b, pool)
		start := time.Now()
		in, err := ingest.New(pool, ingest.Options{Context: engine.ContextBulkImport,
			Validator: engine.NewValidator(engine.DefaultRules(), engine.DefaultPolicy(), nil), CreateUsers: true})
		if err != nil {
			b.Fatal(err)
		}
		if err := ingest.RunFile(context.Background(), in, bytes.NewReader(payload), benchBatch, nil); err != nil {
			b.Fatal(err)
		}
		importSecs += time.Since(start).Seconds()
		if got := in.Totals().Inserted; got != int64(n) {
			b.Fatalf("inserted %d of %d", got, n)
		}
		start = time.Now()
		if _, err := engine.DecodePayload(bytes.NewReader(payload), engine.DecodeOptions{BatchSize: benchBatch},
			func([]engine.Decoded) error { return nil }); err != nil {
			b.Fatal(err)
		}
		decodeSecs += time.Since(start).Seconds()
	}
	b.ReportMetric(float64(b.N*n)/importSecs, "import_rows/s")
	b.ReportMetric(float64(b.N*n)/decodeSecs, "decode_records/s")
	b.ReportMetric(float64(len(payload))/1e6, "payload_MB")
}

// heartRatePayload writes recs in the service's format:
// {"data":{"metrics":[{"type":"HeartRate",...},...]}}.
func heartRatePayload(recs []engine.Record) []byte {
	var buf bytes.Buffer
	buf.WriteString(`{"data":{"metrics":[`)
	for i, r := range recs {
		hr := r.(*engine.HeartRate)
		if i > 0 {
			buf.WriteByte(',')
		}
		fmt.Fprintf(&buf, `{"type":"HeartRate","user_id":%q,"recorded_at":%q,"heart_rate":%d,"context":%q,"source_device":%q}`,
			hr.User.String(), hr.RecordedAt.Format(time.RFC3339Nano), hr.HeartRate, hr.Context, hr.Source)
	}
	buf.WriteString(`]}}`)
	return buf.Bytes()
}
