package ingest_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"hmperf/engine"
	"hmperf/queries/ingest"
	"hmperf/queries/pgtest"
)

// serviceDump is the dump of the service's real database, beside the
// project in CI.
const serviceDump = "../../../shared/fixtures/original-service/schema.sql"

// idempotentLayouts are the databases the idempotence tests run on: the
// service's layout without a unique key on heart_rate_metrics (the
// anti-join), hmperf's own tables with one (ON CONFLICT), and the service's
// dump where it is present.
func idempotentLayouts(t *testing.T) map[string]func(*testing.T) *pgxpool.Pool {
	t.Helper()
	layouts := map[string]func(*testing.T) *pgxpool.Pool{
		"service layout, no unique key": servicePool,
		"hmperf's tables, unique key":   newPool,
	}
	if _, err := os.Stat(serviceDump); err == nil {
		layouts["service dump, no unique key"] = func(t *testing.T) *pgxpool.Pool {
			dsn := pgtest.NewDB(t)
			pgtest.LoadServiceDump(t, dsn, serviceDump)
			return adoptDSN(t, dsn)
		}
	}
	return layouts
}

// heartRateFile is a payload of n valid heart-rate records of users that
// exist in pool's users table (added here), in the partitions' range.
func heartRateFile(t testing.TB, pool *pgxpool.Pool, n int) ([]byte, []engine.Record) {
	t.Helper()
	ctx := context.Background()
	rows, err := pool.Query(ctx, `INSERT INTO users (id, email)
		SELECT gen_random_uuid(), 'idempotent-' || g || '-' || gen_random_uuid() || '@example.invalid' FROM generate_series(1, 5) g
		RETURNING id`)
	if err != nil {
		t.Fatal(err)
	}
	var users []engine.UUID
	for rows.Next() {
		var u [16]byte
		if err := rows.Scan(&u); err != nil {
			t.Fatal(err)
		}
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	g, err := engine.NewGenerator(engine.GenConfig{Seed: 16, UserIDs: users, Types: []engine.Kind{engine.KindHeartRate},
		End: time.Now().UTC().Truncate(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	recs := make([]engine.Record, n)
	for i := range recs {
		recs[i] = g.Next().Record
	}
	var buf bytes.Buffer
	if err := engine.EncodePayload(&buf, recs); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), recs
}

// testBatch is the tests' batch size: several batches to a file.
const testBatch = 300

// importFile runs one import of payload, batchSize records a batch (as `hmperf ingest --file` does:
// live target, existing users only) and returns its heart-rate totals and
// its error. adjust may change the ingester before it writes.
func importFile(t testing.TB, pool *pgxpool.Pool, payload io.Reader, policy engine.Policy, batchSize int,
	adjust ...func(*ingest.Ingester)) (ingest.TypeTotals, error) {
	t.Helper()
	cache, err := engine.NewCache(1000, time.Hour, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	in, err := ingest.Open(context.Background(), pool, ingest.Options{Context: engine.ContextBulkImport, Cache: cache,
		Validator: engine.NewValidator(engine.DefaultRules(), policy, cache)})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range adjust {
		f(in)
	}
	err = ingest.RunFile(context.Background(), in, payload, batchSize, nil)
	tot := in.Totals()
	hr := tot.ByType["heart_rate_metrics"]
	if hr == nil {
		return ingest.TypeTotals{}, err
	}
	return *hr, err
}

func heartRows(t testing.TB, pool *pgxpool.Pool) (rows, distinct int64) {
	t.Helper()
	if err := pool.QueryRow(context.Background(),
		`SELECT count(*), count(DISTINCT (user_id, recorded_at)) FROM heart_rate_metrics`).Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	return rows, distinct
}

// failingReader returns r's first n bytes, then an error: an upload cut
// off, a process stopped half-way.
type failingReader struct {
	r io.Reader
	n int
}

var errCut = errors.New("input cut off by the test")

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errCut
	}
	p = p[:min(len(p), f.n)]
	n, err := f.r.Read(p)
	f.n -= n
	return n, err
}

// TestImportTwiceAddsNothing: on every layout, a file of 2,000 heart-rate
// records imported twice adds rows only the first time (the second counts
// them all as duplicates); a file that fails half-way and is then imported
// whole ends with exactly its distinct rows; a file overlapping an earlier
// one adds only its new records; records repeated within one file count as
// duplicates as before; and two imports of one file at once store it once.
func TestImportTwiceAddsNothing(t *testing.T) {
	t.Parallel()
	const n = 2000
	for name, layout := range idempotentLayouts(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range []struct {
				name string
				run  func(t *testing.T, pool *pgxpool.Pool, payload []byte, recs []engine.Record)
			}{
				{"whole file twice", func(t *testing.T, pool *pgxpool.Pool, payload []byte, _ []engine.Record) {
					first, err := importFile(t, pool, bytes.NewReader(payload), engine.DefaultPolicy(), testBatch)
					if err != nil || first.Inserted != n || first.Duplicates != 0 {
						t.Fatalf("first import: %+v, %v; want %d inserted", first, err, n)
					}
					second, err := importFile(t, pool, bytes.NewReader(payload), engine.DefaultPolicy(), testBatch)
					if err != nil || second.Inserted != 0 || second.Duplicates != n {
						t.Errorf("second import: %+v, %v; want inserted 0, duplicates %d", second, err, n)
					}
				}},
				{"failed half-way, then whole", func(t *testing.T, pool *pgxpool.Pool, payload []byte, _ []engine.Record) {
					part, err := importFile(t, pool, &failingReader{r: bytes.NewReader(payload), n: len(payload) / 2}, engine.DefaultPolicy(), testBatch)
					if !errors.Is(err, errCut) || part.Inserted == 0 || part.Inserted >= n {
						t.Fatalf("cut import: %+v, %v; want some batches stored and the cut reported", part, err)
					}
					whole, err := importFile(t, pool, bytes.NewReader(payload), engine.DefaultPolicy(), testBatch)
					if err != nil || whole.Inserted != n-part.Inserted || whole.Duplicates != part.Inserted {
						t.Errorf("import after the cut one (%d stored): %+v, %v", part.Inserted, whole, err)
					}
				}},
				{"overlapping files", func(t *testing.T, pool *pgxpool.Pool, _ []byte, recs []engine.Record) {
					a, b := encode(t, recs[:n*3/4]), encode(t, recs[n/4:])
					if first, err := importFile(t, pool, bytes.NewReader(a), engine.DefaultPolicy(), testBatch); err != nil || first.Inserted != n*3/4 {
						t.Fatalf("first window: %+v, %v", first, err)
					}
					second, err := importFile(t, pool, bytes.NewReader(b), engine.DefaultPolicy(), testBatch)
					if err != nil || second.Inserted != n/4 || second.Duplicates != n/2 {
						t.Errorf("overlapping window: %+v, %v; want %d inserted, %d duplicates", second, err, n/4, n/2)
					}
				}},
				{"repeats within one file", func(t *testing.T, pool *pgxpool.Pool, _ []byte, recs []engine.Record) {
					twice := encode(t, append(slices.Clone(recs), recs[:n/2]...))
					got, err := importFile(t, pool, bytes.NewReader(twice), engine.DefaultPolicy(), testBatch)
					if err != nil || got.Inserted != n || got.Duplicates != n/2 {
						t.Errorf("a file repeating half its records: %+v, %v; want %d inserted, %d duplicates", got, err, n, n/2)
					}
				}},
				{"two imports at once", func(t *testing.T, pool *pgxpool.Pool, payload []byte, _ []engine.Record) {
					var wg sync.WaitGroup
					var results [2]ingest.TypeTotals
					var errs [2]error
					for i := range results {
						wg.Add(1)
						go func() {
							defer wg.Done()
							results[i], errs[i] = importFile(t, pool, bytes.NewReader(payload), engine.DefaultPolicy(), testBatch)
						}()
					}
					wg.Wait()
					if errors.Join(errs[:]...) != nil || results[0].Inserted+results[1].Inserted != n ||
						results[0].Duplicates+results[1].Duplicates != n {
						t.Errorf("two imports at once: %+v %+v, %v; want %d inserted between them", results[0], results[1], errors.Join(errs[:]...), n)
					}
				}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					pool := layout(t)
					payload, recs := heartRateFile(t, pool, n)
					tc.run(t, pool, payload, recs)
					if rows, distinct := heartRows(t, pool); rows != n || distinct != n {
						t.Errorf("heart_rate_metrics holds %d rows, %d distinct (user_id, recorded_at); want %d", rows, distinct, n)
					}
					checkOwnWrites(t, pool, n, strings.Contains(name, "no unique key"))
				})
			}
		})
	}
}

// TestRowByRowSkipsStoredKeys: a record PostgreSQL refuses (validation
// skipped) sends its batch down the row-by-row path, which skips stored
// keys too: imported again, the file adds nothing and refuses the same
// record again.
func TestRowByRowSkipsStoredKeys(t *testing.T) {
	t.Parallel()
	for name, layout := range idempotentLayouts(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			pool := layout(t)
			_, recs := heartRateFile(t, pool, 500)
			recs[250].(*engine.HeartRate).HeartRate = 400 // over the CHECK's 300
			payload := encode(t, recs)
			skip, err := engine.ParsePolicy("bulk-import")
			if err != nil {
				t.Fatal(err)
			}
			want := []ingest.TypeTotals{{Inserted: 499, Rejected: 1}, {Duplicates: 499, Rejected: 1}}
			for i, w := range want {
				got, err := importFile(t, pool, bytes.NewReader(payload), skip, testBatch)
				if err != nil || got.Inserted != w.Inserted || got.Duplicates != w.Duplicates || got.Rejected != w.Rejected || got.ConstraintFailures != 1 {
					t.Errorf("import %d: %+v, %v; want %+v with one constraint failure", i+1, got, err, w)
				}
			}
			if rows, distinct := heartRows(t, pool); rows != 499 || distinct != 499 {
				t.Errorf("heart_rate_metrics holds %d rows, %d distinct; want 499", rows, distinct)
			}
		})
	}
}

// checkOwnWrites: hmperf.own_writes holds, for heart_rate_metrics, the n
// rows committed, and where stored keys are looked up (lookup) no row
// inserted and rolled back: skipped records are never written. With a
// unique key a batch's COPY that meets a stored key rolls back what it had
// inserted, and that is recorded as rolled back.
func checkOwnWrites(t *testing.T, pool *pgxpool.Pool, n int64, lookup bool) {
	t.Helper()
	var committed, rolledBack int64
	if err := pool.QueryRow(context.Background(), `SELECT coalesce(sum(committed), 0)::bigint, coalesce(sum(rolled_back), 0)::bigint
		FROM hmperf.own_writes WHERE root_relid = 'heart_rate_metrics'::regclass`).Scan(&committed, &rolledBack); err != nil {
		t.Fatal(err)
	}
	if committed != n || lookup && rolledBack != 0 {
		t.Errorf("hmperf.own_writes records %d rows committed, %d rolled back on heart_rate_metrics; want %d committed (none rolled back: %v)",
			committed, rolledBack, n, lookup)
	}
}

// TestRepeatsAtDatabasePrecision: two records of a batch whose instants
// differ by less than a microsecond are two keys to the engine and one to
// the table, which stores one and counts the other as a duplicate, with a
// unique key or without.
func TestRepeatsAtDatabasePrecision(t *testing.T) {
	t.Parallel()
	for name, layout := range idempotentLayouts(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			pool := layout(t)
			_, recs := heartRateFile(t, pool, 100)
			twin := recs[10].Clone().(*engine.HeartRate)
			twin.RecordedAt = twin.RecordedAt.Add(400 * time.Nanosecond)
			got, err := importFile(t, pool, bytes.NewReader(encode(t, append(recs, twin))), engine.DefaultPolicy(), testBatch)
			if err != nil || got.Inserted != 100 || got.Duplicates != 1 {
				t.Errorf("import: %+v, %v; want 100 inserted, 1 duplicate", got, err)
			}
			if rows, distinct := heartRows(t, pool); rows != 100 || distinct != 100 {
				t.Errorf("heart_rate_metrics holds %d rows, %d distinct; want 100", rows, distinct)
			}
		})
	}
}

func encode(t testing.TB, recs []engine.Record) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := engine.EncodePayload(&buf, recs); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
