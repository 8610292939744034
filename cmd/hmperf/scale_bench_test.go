package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"hmperf/engine"
	"hmperf/migrations"
	"hmperf/queries/indexq"
	"hmperf/queries/ingest"
	"hmperf/queries/monitor"
	"hmperf/queries/pgtest"
	"hmperf/queries/scale"
)

// scaleSize is one point of the scale curve: the monthly partitions every
// maintained table has and the rows in the base partitioned tables.
type scaleSize struct {
	months int
	rows   int64
}

// scaleSizes are the points BenchmarkScale measures: a tenth, a half and
// all of HMPERF_SCALE_MONTHS (120: ten years) and HMPERF_SCALE_ROWS
// (10,000,000). Months below 5 are raised to 5: the migrations already
// keep one month back, the current one and three ahead.
func scaleSizes(b *testing.B) []scaleSize {
	months := envInt(b, "HMPERF_SCALE_MONTHS", 120)
	rows := envInt(b, "HMPERF_SCALE_ROWS", 10_000_000)
	var out []scaleSize
	for _, f := range []int{10, 2, 1} {
		s := scaleSize{months: max(months/f, 5), rows: int64(rows / f)}
		if len(out) == 0 || out[len(out)-1] != s {
			out = append(out, s)
		}
	}
	return out
}

func envInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

// scaleUsers is how many users the generated rows go round.
const scaleUsers = 1000

// scalePoint is what BenchmarkScale measured at one size.
type scalePoint struct {
	scaleSize
	partitions int           // every partition of every maintained table, DEFAULT ones included
	created    int           // partitions maintain_partitions created for this size
	create     time.Duration // that maintain_partitions run
	fill       time.Duration // writing this size's new rows
	maintain   time.Duration // median maintain_partitions run with nothing to create
	status     time.Duration // median `hmperf migrate status`
	readStatus time.Duration // median migrations.ReadStatus on an open connection
	sample     time.Duration // median hmperf.sample_writes()
	ingest     ingestRates   // two writers, after the fill
}

// BenchmarkScale builds ten years of monthly partitions (120 on every table
// hmperf.maintain_partitions() keeps) and 10,000,000 rows in the three base
// partitioned tables, in three steps (12 months and 1 M rows, 60 and 5 M,
// 120 and 10 M), over the 1,000,000 ingest batches and monitor rows of
// BenchmarkPollCycle (HMPERF_POLL_ROWS). At each step it measures what grows
// with partitions or rows: maintain_partitions() creating the new months
// and with nothing to do, `hmperf migrate status`, the write sampler the
// Constraints panel runs, and one poll cycle of every panel (the
// sub-benchmark's loop). At the full size it measures ingest throughput
// with 1, 2 and 4 writers against raw COPY with as many, interleaved.
// HMPERF_SCALE_MONTHS and HMPERF_SCALE_ROWS change the full size,
// HMPERF_SCALE_INGEST_ROWS the rows of each ingest run (100,000). The full
// run takes about five minutes on two cores; -v prints the tables.
//
//	go test ./cmd/hmperf -run '^$' -bench BenchmarkScale -benchtime 20x -timeout 60m
func BenchmarkScale(b *testing.B) {
	sizes := scaleSizes(b)
	ctx := context.Background()
	dsn := pgtest.NewMigratedDB(b)
	seedPollData(b, dsn, envInt(b, "HMPERF_POLL_ROWS", 1_000_000))
	pool := scalePool(b, dsn)
	if err := scale.EnsureUsers(ctx, pool, 0, scaleUsers); err != nil {
		b.Fatal(err)
	}
	src := pollSource(b, dsn)
	ingestRows := envInt(b, "HMPERF_SCALE_INGEST_ROWS", 100_000)
	var points []scalePoint
	var filled int64
	for step, sz := range sizes {
		p := measureScaleStep(b, ctx, pool, dsn, sz, step, filled)
		p.ingest = measureScaleIngest(b, ctx, pool, ingestRows, []int{2})[0]
		filled = sz.rows
		points = append(points, p)
		b.Run(fmt.Sprintf("months=%d/rows=%d", sz.months, sz.rows), func(b *testing.B) {
			benchPollCycles(b, ctx, src)
			b.ReportMetric(float64(p.partitions), "partitions")
			b.ReportMetric(msOf(p.create), "create_ms")
			b.ReportMetric(float64(p.created), "created")
			b.ReportMetric(msOf(p.maintain), "maintain_ms")
			b.ReportMetric(msOf(p.status), "migrate_status_ms")
			b.ReportMetric(msOf(p.readStatus), "read_status_ms")
			b.ReportMetric(msOf(p.sample), "sample_writes_ms")
			b.ReportMetric(p.ingest.ingest, "ingest_w2_rows/s")
			b.ReportMetric(p.ingest.copy, "copy_w2_rows/s")
		})
	}
	ing := measureScaleIngest(b, ctx, pool, ingestRows, []int{1, 2, 4})
	b.Run("ingest", func(b *testing.B) {
		for b.Loop() {
		}
		for _, w := range ing {
			b.ReportMetric(w.ingest, fmt.Sprintf("ingest_w%d_rows/s", w.writers))
			b.ReportMetric(w.copy, fmt.Sprintf("copy_w%d_rows/s", w.writers))
			b.ReportMetric(w.ingest/w.copy, fmt.Sprintf("ingest/copy_w%d", w.writers))
		}
	})
	b.Log("\n" + scaleTable(points, ing))
}

func msOf(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// scalePool is a pool with room for four writers and the fills.
func scalePool(b *testing.B, dsn string) *pgxpool.Pool {
	b.Helper()
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		b.Fatal(err)
	}
	cfg.MaxConns = 8
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	return pool
}

// measureScaleStep grows the dataset to sz (filled rows are there already)
// and measures it.
func measureScaleStep(b *testing.B, ctx context.Context, pool *pgxpool.Pool, dsn string, sz scaleSize, step int, filled int64) scalePoint {
	b.Helper()
	p := scalePoint{scaleSize: sz}
	if err := scale.SetMonths(ctx, pool, sz.months); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	created, err := indexq.MaintainPartitions(ctx, pool)
	p.create, p.created = time.Since(start), created
	if err != nil {
		b.Fatal(err)
	}
	// The rows go to the full months before the current one: as many as
	// the months back (the months ahead are empty, as in production).
	var back int
	if err := pool.QueryRow(ctx, `SELECT min(months_back) FROM hmperf.partition_maintenance WHERE parent_table = ANY($1)`,
		scale.FillTables).Scan(&back); err != nil {
		b.Fatal(err)
	}
	start = time.Now()
	fillScale(b, ctx, pool, sz.rows-filled, back, step)
	p.fill = time.Since(start)
	// Autovacuum analyzes tables that grew this much; do it now rather
	// than in the middle of a measurement.
	if _, err := pool.Exec(ctx, "ANALYZE "+strings.Join(scale.FillTables, ", ")); err != nil {
		b.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM hmperf.partition_maintenance m, pg_partition_tree(m.parent_table::regclass) t
		 WHERE m.enabled AND t.isleaf`).Scan(&p.partitions); err != nil {
		b.Fatal(err)
	}
	p.maintain = medianOf(b, 5, func() error {
		n, err := indexq.MaintainPartitions(ctx, pool)
		if err == nil && n != 0 {
			err = fmt.Errorf("maintain_partitions created %d partitions on a second run", n)
		}
		return err
	})
	p.status = medianOf(b, 5, func() error {
		if r := runCmd(ctx, "", "migrate", "status", "--dsn", dsn); r.code != 0 {
			return fmt.Errorf("migrate status: exit %d: %s", r.code, r.stderr)
		}
		return nil
	})
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	p.readStatus = medianOf(b, 5, func() error { _, err := migrations.ReadStatus(ctx, conn, nil); return err })
	p.sample = medianOf(b, 5, func() error { _, err := monitor.Sample(ctx, pool); return err })
	return p
}

// fillScale writes rows more rows, split over scale.FillTables, into months
// full months, two tables at a time (the machine has two cores). step makes
// the keys differ from the earlier steps' rows.
func fillScale(b *testing.B, ctx context.Context, pool *pgxpool.Pool, rows int64, months, step int) {
	b.Helper()
	n := int64(len(scale.FillTables))
	fills := make(chan scale.Fill, n)
	for i, t := range scale.FillTables {
		share := rows / n
		if int64(i) < rows%n {
			share++
		}
		fills <- scale.Fill{Table: t, Rows: share, Users: scaleUsers, Months: months, Micros: step}
	}
	close(fills)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for w := range errs {
		wg.Go(func() {
			for f := range fills {
				got, err := scale.FillRows(ctx, pool, f)
				if err == nil && got != f.Rows {
					err = fmt.Errorf("fill %s wrote %d of %d rows", f.Table, got, f.Rows)
				}
				if err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
}

// medianOf runs fn n times and returns the median duration.
func medianOf(b *testing.B, n int, fn func() error) time.Duration {
	b.Helper()
	ds := make([]time.Duration, n)
	for i := range ds {
		start := time.Now()
		if err := fn(); err != nil {
			b.Fatal(err)
		}
		ds[i] = time.Since(start)
	}
	slices.Sort(ds)
	return ds[n/2]
}

// ingestRates is the median throughput of each method with writers
// writers.
type ingestRates struct {
	writers      int
	ingest, copy float64
}

// measureScaleIngest writes rows generated activity rows (the last thirty
// days of fresh users, as a live service writes them) into
// activity_metrics_v2 through hmperf's ingest and by raw COPY, each with
// every count of writers: three rounds of all of them, the order turned
// each round so that no method always runs on the smaller table. Every run has its own
// users, so nothing is a duplicate and nothing needs deleting in between.
func measureScaleIngest(b *testing.B, ctx context.Context, pool *pgxpool.Pool, rows int, writers []int) []ingestRates {
	b.Helper()
	type method struct {
		writers int
		copy    bool
	}
	var methods []method
	for _, w := range writers {
		methods = append(methods, method{w, false}, method{w, true})
	}
	rates := make([][]float64, len(methods))
	for round := range 3 {
		for j := range methods {
			i := (j + round*2) % len(methods)
			recs := scaleActivity(b, rows)
			start := time.Now()
			var err error
			if methods[i].copy {
				err = copyWriters(ctx, pool, recs, methods[i].writers)
			} else {
				err = ingestWriters(ctx, pool, recs, methods[i].writers)
			}
			if err != nil {
				b.Fatalf("writers %d copy %v: %v", methods[i].writers, methods[i].copy, err)
			}
			rates[i] = append(rates[i], float64(rows)/time.Since(start).Seconds())
		}
	}
	var out []ingestRates
	for i := 0; i < len(methods); i += 2 {
		out = append(out, ingestRates{writers: methods[i].writers, ingest: medianFloat(rates[i]), copy: medianFloat(rates[i+1])})
	}
	return out
}

func medianFloat(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// scaleActivity generates n valid activity records of 200 new users (a
// random seed: the benchmark's runs must not share one), hourly over the
// last thirty days.
func scaleActivity(b *testing.B, n int) []engine.Record {
	b.Helper()
	g, err := engine.NewGenerator(engine.GenConfig{Seed: rand.Uint64(), Types: []engine.Kind{engine.KindActivity}, Users: 200})
	if err != nil {
		b.Fatal(err)
	}
	recs := make([]engine.Record, n)
	for i := range recs {
		recs[i] = g.Next().Record
	}
	return recs
}

// scaleBatch is the ingest's batch size, as in the ingest benchmarks.
const scaleBatch = 10_000

func ingestWriters(ctx context.Context, pool *pgxpool.Pool, recs []engine.Record, writers int) error {
	cache, err := engine.NewCache(10000, time.Hour, time.Now)
	if err != nil {
		return err
	}
	in, err := ingest.New(pool, ingest.Options{Context: engine.ContextBulkImport,
		Validator: engine.NewValidator(engine.DefaultRules(), engine.DefaultPolicy(), cache), Cache: cache, Writers: writers, CreateUsers: true})
	if err != nil {
		return err
	}
	batches := func(yield func([]ingest.Item) bool) {
		items := make([]ingest.Item, 0, scaleBatch)
		for off := 0; off < len(recs); off += scaleBatch {
			items = items[:0]
			for i, r := range recs[off:min(off+scaleBatch, len(recs))] {
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
	if got := in.Totals().Inserted; got != int64(len(recs)) {
		return fmt.Errorf("ingest inserted %d of %d", got, len(recs))
	}
	return nil
}

// copyWriters writes recs with one raw COPY per writer, each of an equal
// share, after inserting their users: the floor the ingest is held to.
func copyWriters(ctx context.Context, pool *pgxpool.Pool, recs []engine.Record, writers int) error {
	users := map[engine.UUID]bool{}
	var ids [][16]byte
	for _, r := range recs {
		if u := r.UserID(); !users[u] {
			users[u] = true
			ids = append(ids, u)
		}
	}
	if _, err := pool.Exec(ctx, "INSERT INTO users (id) SELECT unnest($1::uuid[]) ON CONFLICT DO NOTHING", ids); err != nil {
		return err
	}
	tbl := engine.TableOf(engine.KindActivity)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		share := recs[w*len(recs)/writers : (w+1)*len(recs)/writers]
		wg.Go(func() {
			var buf []any
			_, errs[w] = pool.CopyFrom(ctx, pgx.Identifier{tbl.Name}, tbl.ColumnNames(), pgx.CopyFromSlice(len(share), func(i int) ([]any, error) {
				buf = share[i].AppendValues(buf[:0])
				return buf, nil
			}))
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// scaleTable is the curve as a Markdown table, for docs/measurements.md.
func scaleTable(points []scalePoint, ing []ingestRates) string {
	var sb strings.Builder
	sb.WriteString("| months | rows | partitions | create (new months) | fill | maintain (nothing to do) | migrate status | ReadStatus | sample_writes | ingest, 2 writers | raw COPY, 2 writers |\n")
	sb.WriteString("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, p := range points {
		fmt.Fprintf(&sb, "| %d | %d | %d | %d in %.0f ms | %.1f s | %.1f ms | %.1f ms | %.2f ms | %.1f ms | %.0f rows/s | %.0f rows/s |\n",
			p.months, p.rows, p.partitions, p.created, msOf(p.create), p.fill.Seconds(), msOf(p.maintain), msOf(p.status),
			msOf(p.readStatus), msOf(p.sample), p.ingest.ingest, p.ingest.copy)
	}
	sb.WriteString("\n| writers | ingest rows/s | raw COPY rows/s | ingest/COPY |\n|---:|---:|---:|---:|\n")
	for _, w := range ing {
		fmt.Fprintf(&sb, "| %d | %.0f | %.0f | %.2f |\n", w.writers, w.ingest, w.copy, w.ingest/w.copy)
	}
	return sb.String()
}
