package monitor_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"hmperf/queries"
	"hmperf/queries/bench"
	"hmperf/queries/monitor"
)

// writer is a second client, as the service is: its own connection, its
// statistics flushed to shared memory after each statement (PostgreSQL
// otherwise publishes them up to some seconds later).
type writer struct {
	t    testing.TB
	conn *pgx.Conn
	user string
}

func newWriter(t testing.TB, pool *pgxpool.Pool) *writer {
	t.Helper()
	conn, err := pgx.ConnectConfig(context.Background(), pool.Config().ConnConfig)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	w := &writer{t: t, conn: conn}
	w.exec("INSERT INTO users (email) VALUES ('service@example.invalid')")
	if err := conn.QueryRow(context.Background(), "SELECT id::text FROM users WHERE email = 'service@example.invalid'").Scan(&w.user); err != nil {
		t.Fatal(err)
	}
	// Autovacuum would reset the dead-tuple counts the rolled-back split
	// reads; the tests that need an exact split keep it away.
	w.exec(`DO $$ DECLARE r regclass; BEGIN
		FOR r IN SELECT relid FROM pg_partition_tree('activity_metrics_v2') WHERE isleaf LOOP
			EXECUTE format('ALTER TABLE %s SET (autovacuum_enabled = false)', r);
		END LOOP; END $$`)
	return w
}

func (w *writer) exec(sql string, args ...any) {
	w.t.Helper()
	if _, err := w.conn.Exec(context.Background(), sql, args...); err != nil {
		w.t.Fatalf("%s: %v", sql, err)
	}
	w.flush()
}

func (w *writer) flush() {
	w.t.Helper()
	if _, err := w.conn.Exec(context.Background(), "SELECT pg_stat_force_next_flush()"); err != nil {
		w.t.Fatal(err)
	}
}

// insertSQL is the service's plain INSERT ... SELECT of n activity rows, one
// second apart from offset seconds ago.
const insertSQL = `INSERT INTO activity_metrics_v2 (user_id, recorded_at, step_count)
	SELECT $1::uuid, now() - make_interval(secs => $2::int + g), g % 1000 FROM generate_series(1, $3::int) g`

func (w *writer) insert(offset, n int) { w.exec(insertSQL, w.user, offset, n) }

func mustSample(t testing.TB, pool *pgxpool.Pool) monitor.SampleResult {
	t.Helper()
	r, err := monitor.Sample(context.Background(), pool)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func tableSample(r monitor.SampleResult, table string) monitor.TableSample {
	for _, ts := range r.Tables {
		if ts.Table == table {
			return ts
		}
	}
	return monitor.TableSample{Table: table}
}

// viewRows is what real_time_constraint_performance shows for table, all
// hours summed: rows and the observed rows.
func viewRows(t testing.TB, pool *pgxpool.Pool, table string) (rows, observed int64) {
	t.Helper()
	err := pool.QueryRow(context.Background(), `SELECT coalesce(sum(rows), 0)::bigint, coalesce(sum(observed_rows), 0)::bigint
		FROM real_time_constraint_performance WHERE table_name = $1`, table).Scan(&rows, &observed)
	if err != nil {
		t.Fatal(err)
	}
	return rows, observed
}

func TestSampleSeesExternalInsert(t *testing.T) {
	t.Parallel()
	pool := setup(t)
	w := newWriter(t, pool)
	if r := mustSample(t, pool); r.Status != monitor.SampleBaseline || len(r.Tables) != 0 {
		t.Fatalf("first sample = %+v, want a baseline with no tables", r)
	}
	w.insert(0, 5000)
	r := mustSample(t, pool)
	got := tableSample(r, "activity_metrics_v2")
	if r.Status != monitor.SampleTaken || got.Inserted != 5000 || got.Rows != 5000 || got.RolledBack != 0 || got.HmperfRows != 0 {
		t.Fatalf("sample after 5,000 rows: %+v, activity_metrics_v2 %+v", r, got)
	}
	if got.Throughput == nil || *got.Throughput <= 0 {
		t.Errorf("throughput = %v, want rows per second of the interval", got.Throughput)
	}
	if rows, observed := viewRows(t, pool, "activity_metrics_v2"); rows != 5000 || observed != 5000 {
		t.Fatalf("real_time_constraint_performance: rows %d, observed_rows %d; want 5000", rows, observed)
	}
	var throughput *float64
	if err := pool.QueryRow(context.Background(), `SELECT throughput_rows_per_sec FROM real_time_constraint_performance
		WHERE table_name = 'activity_metrics_v2'`).Scan(&throughput); err != nil || throughput == nil || *throughput <= 0 {
		t.Errorf("view throughput_rows_per_sec = %v, %v", throughput, err)
	}
	r = mustSample(t, pool)
	if len(r.Tables) != 0 {
		t.Errorf("a sample without writes saw %+v", r.Tables)
	}
	if rows, _ := viewRows(t, pool, "activity_metrics_v2"); rows != 5000 {
		t.Errorf("after a sample without writes the view shows %d rows, want 5000", rows)
	}
}

func TestSampleKeepsRolledBackApart(t *testing.T) {
	t.Parallel()
	pool := setup(t)
	w := newWriter(t, pool)
	mustSample(t, pool)
	tx, err := w.conn.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(context.Background(), insertSQL, w.user, 0, 3000); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.insert(10000, 700)
	got := tableSample(mustSample(t, pool), "activity_metrics_v2")
	if got.Inserted != 3700 || got.Rows != 700 || got.RolledBack != 3000 || got.RollbackUnknown != 0 {
		t.Fatalf("3,000 rolled back and 700 committed: %+v", got)
	}
	var rows, rolledBack int64
	if err := pool.QueryRow(context.Background(), `SELECT sum(rows)::bigint, sum(rolled_back_rows)::bigint
		FROM real_time_constraint_performance WHERE table_name = 'activity_metrics_v2'`).Scan(&rows, &rolledBack); err != nil {
		t.Fatal(err)
	}
	if rows != 700 || rolledBack != 3000 {
		t.Errorf("view: rows %d, rolled_back_rows %d; want 700 and 3000", rows, rolledBack)
	}
}

// hmperfBatch is one of hmperf's transactions on the writer's connection,
// labelled as hmperf's: it inserts n activity rows, of which it rolls the
// first rolledBack back to a savepoint, deletes lost of the others, and
// records what it wrote as hmperf's ingest does, counting as committed only
// the rows it kept. A deleted row stands for an INSERT ... ON CONFLICT DO
// NOTHING that lost a race with another inserter of its key: the
// statistics count both alike, an insert and a delete, and RETURNING names
// neither. With fail set it then fails, rolls back to the batch's
// savepoint and records nothing as committed. Its statistics are not
// flushed.
func (w *writer) hmperfBatch(n, rolledBack, lost int, fail bool) {
	w.t.Helper()
	ctx := context.Background()
	tx, err := w.conn.Begin(ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	const rows = `INSERT INTO activity_metrics_v2 (user_id, recorded_at, step_count)
		SELECT $1::uuid, now() - make_interval(days => 3, secs => $2::int + g), 1 FROM generate_series(1, $3::int) g`
	for _, sql := range []string{"SAVEPOINT batch", "SAVEPOINT part"} {
		if _, err := tx.Exec(ctx, sql); err != nil {
			w.t.Fatal(err)
		}
	}
	if _, err := tx.Exec(ctx, rows, w.user, 0, rolledBack); err != nil {
		w.t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT part"); err != nil {
		w.t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, rows, w.user, 100000, n-rolledBack); err != nil {
		w.t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM activity_metrics_v2 WHERE (user_id, recorded_at) IN
		(SELECT user_id, recorded_at FROM activity_metrics_v2 WHERE user_id = $1 AND step_count = 1 LIMIT $2)`, w.user, lost); err != nil {
		w.t.Fatal(err)
	}
	committed := int64(n - rolledBack - lost)
	if fail {
		if _, err := tx.Exec(ctx, "SELECT 1/0"); err == nil {
			w.t.Fatal("1/0 did not fail")
		}
		if _, err := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT batch"); err != nil {
			w.t.Fatal(err)
		}
		committed = 0
	}
	if err := queries.RecordOwnWrites(ctx, tx, []queries.OwnWrite{{Table: "activity_metrics_v2", Committed: committed}}); err != nil {
		w.t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		w.t.Fatal(err)
	}
}

// TestSampleTakesOutHmperfWrites: what hmperf itself wrote, committed or
// rolled back, recorded in hmperf.own_writes by its transaction, is never
// the service's: the observed rows and rolled-back rows are the service's
// alone, even when hmperf's statistics arrive a sample later.
func TestSampleTakesOutHmperfWrites(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                   string
		n, rolledBack, lost    int
		fail                   bool
		wantOwn, wantOwnRolled int64
	}{
		{name: "committed", n: 400, wantOwn: 400},
		{name: "part rolled back to a savepoint", n: 400, rolledBack: 150, wantOwn: 250, wantOwnRolled: 150},
		{name: "failed batch", n: 400, rolledBack: 150, fail: true, wantOwnRolled: 400},
		// The statistics count a lost insert as committed (an insert and a
		// delete): hmperf's, not the service's, whatever RETURNING said.
		{name: "inserts that lost a race", n: 400, lost: 3, wantOwn: 400},
		{name: "failed batch with lost inserts", n: 400, rolledBack: 150, lost: 3, fail: true, wantOwn: 3, wantOwnRolled: 397},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pool := setup(t)
			w := newWriter(t, pool)
			mustSample(t, pool)
			w.hmperfBatch(tc.n, tc.rolledBack, tc.lost, tc.fail)
			w.insert(0, 100)
			w.flush()
			got := tableSample(mustSample(t, pool), "activity_metrics_v2")
			if got.Inserted != int64(tc.n)+100 || got.Rows != 100 || got.RolledBack != 0 ||
				got.HmperfRows != tc.wantOwn || got.HmperfRolledBack != tc.wantOwnRolled {
				t.Fatalf("hmperf wrote %d (%d rolled back, failed %v), the service 100: %+v", tc.n, tc.rolledBack, tc.fail, got)
			}
			if _, observed := viewRows(t, pool, "activity_metrics_v2"); observed != 100 {
				t.Errorf("view: observed_rows %d, want the service's 100", observed)
			}
		})
	}
}

// TestSampleCarriesHmperfWrites: hmperf's record is visible before its
// statistics (a server older than 15, or a sample between its commit and
// its flush): the sample carries it to the next one, and the service's rows
// are the service's in both.
func TestSampleCarriesHmperfWrites(t *testing.T) {
	t.Parallel()
	pool := setup(t)
	w := newWriter(t, pool)
	mustSample(t, pool)
	if _, err := pool.Exec(context.Background(), `INSERT INTO hmperf.own_writes (root_relid, table_name, committed, rolled_back)
		VALUES ('activity_metrics_v2'::regclass, 'activity_metrics_v2', 400, 50)`); err != nil {
		t.Fatal(err)
	}
	r := mustSample(t, pool)
	if got := tableSample(r, "activity_metrics_v2"); got.Rows != 0 || got.HmperfRows != 0 {
		t.Fatalf("hmperf's record without its rows: %+v", got)
	}
	// Its 400 committed and 50 rolled-back rows arrive, with the service's 100.
	tx, err := w.conn.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(context.Background(), insertSQL, w.user, 50000, 50); err != nil {
		t.Fatal(err)
	}
	tx.Rollback(context.Background())
	w.insert(60000, 400)
	w.insert(0, 100)
	got := tableSample(mustSample(t, pool), "activity_metrics_v2")
	if got.Inserted != 550 || got.Rows != 100 || got.RolledBack != 0 || got.HmperfRows != 400 || got.HmperfRolledBack != 50 {
		t.Fatalf("400 + 50 rolled back by hmperf, 100 by the service: %+v", got)
	}
}

func TestSampleCounterReset(t *testing.T) {
	t.Parallel()
	pool := setup(t)
	w := newWriter(t, pool)
	mustSample(t, pool)
	w.insert(0, 2000)
	if got := tableSample(mustSample(t, pool), "activity_metrics_v2"); got.Rows != 2000 {
		t.Fatalf("before the reset: %+v", got)
	}
	w.exec("SELECT pg_stat_reset()")
	w.insert(10000, 300)
	r := mustSample(t, pool)
	got := tableSample(r, "activity_metrics_v2")
	if got.Inserted != 300 || got.Rows != 300 || !r.StatsReset {
		t.Fatalf("after pg_stat_reset() and 300 rows: %+v (stats_reset %v), want 300 rows", got, r.StatsReset)
	}
	for _, ts := range r.Tables {
		if ts.Inserted < 0 || ts.Rows < 0 || ts.RolledBack < 0 {
			t.Errorf("negative delta after a reset: %+v", ts)
		}
	}
	if rows, _ := viewRows(t, pool, "activity_metrics_v2"); rows != 2300 {
		t.Errorf("view after the reset: %d rows, want 2300", rows)
	}
}

// TestSampleWritesNoMetricTable: sampling reads statistics and writes only
// hmperf's own tables, so no table outside schema hmperf sees an insert.
func TestSampleWritesNoMetricTable(t *testing.T) {
	t.Parallel()
	pool := setup(t)
	w := newWriter(t, pool)
	w.insert(0, 50)
	conn, err := pool.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	counters := func() map[string]int64 {
		t.Helper()
		if _, err := conn.Exec(context.Background(), "SELECT pg_stat_clear_snapshot()"); err != nil {
			t.Fatal(err)
		}
		rows, err := conn.Query(context.Background(), `SELECT relid::regclass::text, n_tup_ins + n_tup_upd + n_tup_del
			FROM pg_stat_user_tables WHERE schemaname <> 'hmperf'`)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int64{}
		for rows.Next() {
			var name string
			var n int64
			if err := rows.Scan(&name, &n); err != nil {
				t.Fatal(err)
			}
			out[name] = n
		}
		if len(out) < 10 {
			t.Fatalf("only %d tables in pg_stat_user_tables", len(out))
		}
		return out
	}
	before := counters()
	for range 3 {
		if _, err := monitor.Sample(context.Background(), conn); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(context.Background(), "SELECT pg_stat_force_next_flush()"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := conn.Exec(context.Background(), "SELECT pg_stat_force_next_flush()"); err != nil {
		t.Fatal(err)
	}
	var hmperfWrites int64
	if err := conn.QueryRow(context.Background(), `SELECT coalesce(sum(n_tup_ins + n_tup_upd), 0)::bigint
		FROM pg_stat_user_tables WHERE schemaname = 'hmperf'`).Scan(&hmperfWrites); err != nil || hmperfWrites == 0 {
		t.Fatalf("the samples' own writes are not visible (%d, %v): the check below would prove nothing", hmperfWrites, err)
	}
	after := counters()
	for name, n := range before {
		if after[name] != n {
			t.Errorf("%s: %d writes before sampling, %d after", name, n, after[name])
		}
	}
}

func TestSampleStatements(t *testing.T) {
	t.Parallel()
	pool := setup(t)
	w := newWriter(t, pool)
	mustSample(t, pool)
	w.insert(0, 1000)
	r := mustSample(t, pool)
	got := tableSample(r, "activity_metrics_v2")
	if r.Statements != monitor.StatementsNotInstalled || got.Rows != 1000 || got.InsertSpeed != nil ||
		got.StatementCalls != nil || got.MsPer1000Rows != nil {
		t.Fatalf("without pg_stat_statements: %q, %+v; want no insert speed", r.Statements, got)
	}
	var speed *float64
	if err := pool.QueryRow(context.Background(), `SELECT insert_speed_rows_per_sec FROM real_time_constraint_performance
		WHERE table_name = 'activity_metrics_v2'`).Scan(&speed); err != nil || speed != nil {
		t.Fatalf("view insert speed without pg_stat_statements = %v, %v; want NULL", speed, err)
	}

	w.exec("CREATE EXTENSION pg_stat_statements")
	if r := mustSample(t, pool); r.Statements == monitor.StatementsNotInstalled {
		t.Fatalf("extension created, sample says %q", r.Statements)
	}
	w.insert(20000, 5000)
	w.exec(`COPY activity_metrics_v2 (user_id, recorded_at, step_count) FROM PROGRAM 'true'`)
	r = mustSample(t, pool)
	got = tableSample(r, "activity_metrics_v2")
	if got.Rows != 5000 || got.StatementCalls == nil || *got.StatementCalls != 2 || got.StatementRows == nil ||
		*got.StatementRows != 5000 || got.InsertSpeed == nil || *got.InsertSpeed <= 0 || got.MsPer1000Rows == nil {
		t.Fatalf("with pg_stat_statements (%q): %+v", r.Statements, got)
	}
	if err := pool.QueryRow(context.Background(), `SELECT insert_speed_rows_per_sec FROM real_time_constraint_performance
		WHERE table_name = 'activity_metrics_v2' AND hour_bucket = date_trunc('hour', $1::timestamptz)`, r.SampledAt).Scan(&speed); err != nil || speed == nil || *speed <= 0 {
		t.Fatalf("view insert speed = %v, %v", speed, err)
	}
}

// TestSampleConcurrent: two processes sampling at once neither fail nor
// count a write twice; TrySample gives way to a sampler holding the lock.
func TestSampleConcurrent(t *testing.T) {
	t.Parallel()
	pool := setup(t)
	w := newWriter(t, pool)
	mustSample(t, pool)
	w.insert(0, 1234)
	var wg sync.WaitGroup
	results := make([]monitor.SampleResult, 4)
	errs := make([]error, 4)
	for i := range results {
		wg.Go(func() { results[i], errs[i] = monitor.Sample(context.Background(), pool) })
	}
	wg.Wait()
	var total int64
	for i, r := range results {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		total += tableSample(r, "activity_metrics_v2").Rows
	}
	if total != 1234 {
		t.Errorf("four concurrent samples counted %d rows, want 1234", total)
	}

	tx, err := pool.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	if _, err := monitor.Sample(context.Background(), tx); err != nil {
		t.Fatal(err)
	}
	r, err := monitor.TrySample(context.Background(), pool)
	if err != nil || r.Status != monitor.SampleBusy {
		t.Errorf("TrySample while another sampler holds the lock: %+v, %v; want busy", r, err)
	}
}

// BenchmarkSample measures one sample on a database with a thousand more
// partitions (HMPERF_SAMPLE_PARTITIONS rows are not needed: the cost is per
// partition), a few of them written between samples.
//
//	go test ./queries/monitor -run '^$' -bench BenchmarkSample
func BenchmarkSample(b *testing.B) {
	pool := setup(b)
	w := newWriter(b, pool)
	w.exec(`CREATE TABLE bench_parts (id bigint, at timestamptz NOT NULL) PARTITION BY RANGE (at);
		DO $$ BEGIN
		FOR i IN 0 .. 999 LOOP
			EXECUTE format('CREATE TABLE bench_parts_%s PARTITION OF bench_parts FOR VALUES FROM (%L) TO (%L)',
			               i, timestamptz '2000-01-01' + i * interval '1 day', timestamptz '2000-01-01' + (i + 1) * interval '1 day');
		END LOOP; END $$`)
	mustSample(b, pool)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		b.StopTimer()
		w.exec(`INSERT INTO bench_parts SELECT g, timestamptz '2000-01-01' + (($1::int + g) % 1000) * interval '1 day' FROM generate_series(1, 10) g`, i)
		i++
		b.StartTimer()
		if _, err := monitor.Sample(ctx, pool); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSampleSkipsSandbox: generated rows hmperf writes into its sandbox
// twins are neither the service's writes nor taken out of them.
func TestSampleSkipsSandbox(t *testing.T) {
	t.Parallel()
	pool := setup(t)
	w := newWriter(t, pool)
	w.exec(`CREATE TABLE hmperf_sandbox.activity_metrics_v2 (LIKE public.activity_metrics_v2 INCLUDING DEFAULTS)`)
	mustSample(t, pool)
	w.exec(fmt.Sprintf(`BEGIN;
		INSERT INTO hmperf_sandbox.activity_metrics_v2 (user_id, recorded_at, step_count)
		SELECT '%s'::uuid, now() - make_interval(secs => g), 1 FROM generate_series(1, 300) g;
		INSERT INTO hmperf.ingest_batch_stats (run_id, batch_no, table_name, context, received, inserted, duplicates,
		       rejected, unsupported, write_ms)
		VALUES (gen_random_uuid(), 1, 'hmperf_sandbox.activity_metrics_v2', 'api', 300, 300, 0, 0, 0, 10);
		COMMIT`, w.user))
	w.insert(0, 100)
	r := mustSample(t, pool)
	for _, ts := range r.Tables {
		if ts.Table != "activity_metrics_v2" && ts.Table != "users" {
			t.Errorf("sampled hmperf's own table: %+v", ts)
		}
	}
	if got := tableSample(r, "activity_metrics_v2"); got.Rows != 100 || got.HmperfRows != 0 {
		t.Errorf("100 service rows beside 300 sandbox rows: %+v", got)
	}
}

// TestFeedOverheadIsNotTheService: `bench --monitoring-overhead` inserts
// and rolls back batches in activity_metrics_v2; a sample afterwards shows
// them as hmperf's rolled-back rows, never as the service's.
func TestFeedOverheadIsNotTheService(t *testing.T) {
	t.Parallel()
	pool := setup(t)
	mustSample(t, pool)
	if _, err := bench.MeasureFeedOverhead(context.Background(), pool, bench.FeedOptions{Batches: 3, BatchSize: 100}); err != nil {
		t.Fatal(err)
	}
	r := mustSample(t, pool)
	for _, ts := range r.Tables {
		if ts.Rows != 0 || ts.RolledBack != 0 || ts.RollbackUnknown != 0 {
			t.Errorf("%s after measuring the feed: %+v; want none of it the service's", ts.Table, ts)
		}
	}
	// The batches went to a scratch copy of activity_metrics_v2, rolled
	// back: the live table saw nothing, not even as hmperf's own.
	if got := tableSample(r, "activity_metrics_v2"); got.HmperfRows != 0 || got.HmperfRolledBack != 0 {
		t.Errorf("activity_metrics_v2: %+v; want it untouched (the feed is measured on a scratch copy)", got)
	}
}
