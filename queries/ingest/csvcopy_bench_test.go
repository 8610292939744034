package ingest_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	oexec "os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"hmperf/engine"
	"hmperf/queries/ingest"
	"hmperf/queries/pglaunch"
	"hmperf/queries/pgtest"
)

// BenchmarkIngestVsCSVCopy measures, per family, hmperf's ingest against a
// plain `psql \copy` of a CSV file holding the same rows, into the same
// table of hmperf's layout, emptied (with users) and vacuumed before every
// run, interleaved (ingest, \copy, ingest, \copy, ...):
//
//   - ingest: what `hmperf ingest --sample N --types K --dup-rate 0
//     --invalid-rate 0` does with its defaults: validation, dedup, batches
//     of 5,000, two writers, stats, the per-batch foreign-key check, users
//     created as they come, all inside the clock;
//   - \copy: psql started on the CSV (the users inserted before the
//     clock, as the rows need them), PostgreSQL's per-row foreign-key
//     check included, as a plain \copy has it.
//
// HMPERF_BENCH_ROWS rows per family (200,000 by default), HMPERF_BENCH_REPS
// repetitions (2), HMPERF_BENCH_KINDS the families (all by default). It
// reports each family's median rows/s both ways and their ratio, and prints
// every run on stderr.
//
//	go test ./queries/ingest -run '^$' -bench IngestVsCSVCopy -benchtime 1x -timeout 60m
func BenchmarkIngestVsCSVCopy(b *testing.B) {
	n := 200_000
	if os.Getenv("HMPERF_BENCH_ROWS") != "" {
		n = benchRows(b)
	}
	reps, _ := strconv.Atoi(os.Getenv("HMPERF_BENCH_REPS"))
	reps = max(reps, 2)
	dsn := pgtest.NewMigratedDB(b)
	pool, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	psql := psqlPath(b)
	for range b.N {
		for _, k := range benchKinds(b) {
			recs := generateUnique(b, k, n)
			file := writeCSV(b, recs)
			var ing, cp []float64
			for rep := range reps {
				emptyTables(b, pool, k)
				secs := timed(b, func() error { return ingestSample(context.Background(), pool, recs) })
				ing = append(ing, float64(n)/secs)
				emptyTables(b, pool, k)
				insertUsers(b, pool, recs)
				secs = timed(b, func() error { return psqlCopy(psql, dsn, k, file) })
				cp = append(cp, float64(n)/secs)
				// Printed, not logged: the benchmark's log keeps ten lines.
				fmt.Fprintf(os.Stderr, "%s rep %d: ingest %.0f rows/s, \\copy %.0f rows/s, ratio %.2f\n", k, rep+1, ing[rep], cp[rep], ing[rep]/cp[rep])
			}
			b.ReportMetric(median(ing), k.String()+"_ingest_rows/s")
			b.ReportMetric(median(cp), k.String()+"_copy_rows/s")
			b.ReportMetric(median(ing)/median(cp), k.String()+"_ingest/copy")
		}
	}
}

func psqlPath(b *testing.B) string {
	dir, err := pglaunch.FindBinDir()
	if err != nil {
		b.Fatal(err)
	}
	return filepath.Join(dir, "psql")
}

func benchKinds(b *testing.B) []engine.Kind {
	s := os.Getenv("HMPERF_BENCH_KINDS")
	if s == "" {
		return engine.Kinds()
	}
	var out []engine.Kind
	for _, name := range strings.Split(s, ",") {
		k, err := engine.ParseKind(strings.TrimSpace(name))
		if err != nil {
			b.Fatalf("HMPERF_BENCH_KINDS: %v", err)
		}
		out = append(out, k)
	}
	return out
}

// generateUnique is n valid records of kind k from the sample generator's
// defaults (its 10 users, 30 days), without repeated keys, so both ways
// write every row.
func generateUnique(b *testing.B, k engine.Kind, n int) []engine.Record {
	g, err := engine.NewGenerator(engine.GenConfig{Seed: 42, Types: []engine.Kind{k}, End: fixedEnd})
	if err != nil {
		b.Fatal(err)
	}
	seen := map[engine.Key]bool{}
	recs := make([]engine.Record, 0, n)
	for len(recs) < n {
		if r := g.Next().Record; !seen[r.DedupKey()] {
			seen[r.DedupKey()] = true
			recs = append(recs, r)
		}
	}
	return recs
}

// writeCSV writes recs as CSV in the engine's column order: NULL as an
// empty unquoted field, numbers as the shortest decimal, times in RFC 3339
// with nanoseconds, JSON arrays as JSON.
func writeCSV(b *testing.B, recs []engine.Record) string {
	path := filepath.Join(b.TempDir(), "rows.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	w := csv.NewWriter(f)
	var vals []any
	var fields []string
	for _, r := range recs {
		vals = r.AppendValues(vals[:0])
		fields = fields[:0]
		for _, v := range vals {
			fields = append(fields, csvField(b, v))
		}
		if err := w.Write(fields); err != nil {
			b.Fatal(err)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		b.Fatal(err)
	}
	return path
}

func csvField(b *testing.B, v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case [16]byte:
		return engine.UUID(v).String()
	case time.Time:
		return v.Format(time.RFC3339Nano)
	case int32:
		return strconv.Itoa(int(v))
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	case string:
		return v
	case []string:
		j, err := json.Marshal(v)
		if err != nil {
			b.Fatal(err)
		}
		return string(j)
	}
	b.Fatalf("no CSV form for %T", v)
	return ""
}

// emptyTables empties users (and with it every metric table), the stats,
// and vacuums k's table, so each run starts from the same state.
func emptyTables(b *testing.B, pool *pgxpool.Pool, k engine.Kind) {
	ctx := context.Background()
	if _, err := pool.Exec(ctx, "TRUNCATE users, hmperf.ingest_batch_stats, hmperf.ingest_rejections CASCADE"); err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "VACUUM ANALYZE "+pgx.Identifier{k.Table()}.Sanitize()); err != nil {
		b.Fatal(err)
	}
}

func insertUsers(b *testing.B, pool *pgxpool.Pool, recs []engine.Record) {
	seen := map[engine.UUID]bool{}
	var ids [][16]byte
	for _, r := range recs {
		if u := r.UserID(); !seen[u] {
			seen[u] = true
			ids = append(ids, u)
		}
	}
	if _, err := pool.Exec(context.Background(), "INSERT INTO users (id) SELECT unnest($1::uuid[])", ids); err != nil {
		b.Fatal(err)
	}
}

func timed(b *testing.B, run func() error) float64 {
	start := time.Now()
	if err := run(); err != nil {
		b.Fatal(err)
	}
	return time.Since(start).Seconds()
}

// ingestSample writes recs as `hmperf ingest --sample` does, with its
// default batch size and writers.
func ingestSample(ctx context.Context, pool *pgxpool.Pool, recs []engine.Record) error {
	in, err := ingest.New(pool, ingest.Options{Context: engine.ContextBulkImport,
		Validator: engine.NewValidator(engine.DefaultRules(), engine.DefaultPolicy(), nil), CreateUsers: true, Generated: true})
	if err != nil {
		return err
	}
	const batch = 5000
	batches := func(yield func([]ingest.Item) bool) {
		items := make([]ingest.Item, 0, batch)
		for off := 0; off < len(recs); off += batch {
			items = items[:0]
			for i, r := range recs[off:min(off+batch, len(recs))] {
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

func psqlCopy(psql, dsn string, k engine.Kind, file string) error {
	cols := engine.TableOf(k).ColumnNames()
	cmd := fmt.Sprintf(`\copy %s (%s) FROM '%s' WITH (FORMAT csv)`, k.Table(), strings.Join(cols, ", "), file)
	out, err := oexec.Command(psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-c", cmd).CombinedOutput()
	if err != nil {
		return fmt.Errorf("psql \\copy: %v: %s", err, out)
	}
	return nil
}
