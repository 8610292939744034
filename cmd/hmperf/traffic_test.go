package main

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/queries/monitor"
	"hmperf/queries/pgtest"
)

// serviceApp is how the tests' stand-in for the service labels its
// connection: anything but hmperf's "hmperf <command>".
const serviceApp = "health-ingest-service"

// serviceConn connects to dsn as the service would: its own connection,
// its own application_name.
func serviceConn(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	return pgtest.Connect(t, dsn, serviceApp)
}

// serviceRows has conn insert n activity rows for one new user, in chunks
// of chunk rows, each its own transaction with its statistics flushed, as
// a service writing while hmperf works.
func serviceRows(conn *pgx.Conn, n, chunk int) error {
	ctx := context.Background()
	var user string
	if err := conn.QueryRow(ctx, `INSERT INTO users (email) VALUES ('service-' || gen_random_uuid() || '@example.invalid') RETURNING id::text`).Scan(&user); err != nil {
		return err
	}
	for done := 0; done < n; done += chunk {
		if _, err := conn.Exec(ctx, `INSERT INTO activity_metrics_v2 (user_id, recorded_at, step_count)
			SELECT $1::uuid, now() - make_interval(secs => $2::int + g), g FROM generate_series(1, $3::int) g`,
			user, done, min(chunk, n-done)); err != nil {
			return err
		}
		if _, err := conn.Exec(ctx, "SELECT pg_stat_force_next_flush()"); err != nil {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// monitorJSON runs `monitor --once --json` and decodes its sample.
func monitorJSON(t *testing.T, dsn string) monitor.SampleResult {
	t.Helper()
	r := runCmd(context.Background(), "", "monitor", "--once", "--json", "--dsn", dsn)
	var doc monitor.SampleResult
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || r.code != 0 {
		t.Fatalf("monitor --once --json: exit %d, %v, stdout %q, stderr %q", r.code, err, r.stdout, r.stderr)
	}
	return doc
}

// heartRates is a payload of n heart-rate records, a minute apart.
func heartRates(n int) string {
	recs := make([]string, n)
	start := time.Date(2025, 9, 9, 0, 0, 0, 0, time.UTC)
	for i := range recs {
		recs[i] = heartRate(start.Add(time.Duration(i)*time.Minute).Format(time.RFC3339), "70")
	}
	return `{"data": {"metrics": [` + strings.Join(recs, ", ") + `]}}`
}

// TestMonitorCountsOnlyTheService: while the service writes N rows, hmperf
// ingests generated rows into the live tables twice with the same seed, and
// a payload file twice (each second run's COPY meets every key, rolls back
// to its savepoint and goes through staging, so hmperf both commits and
// rolls back rows). `monitor`
// then reports as the service's exactly its N rows and its one user, and
// no rolled-back row: hmperf's own, committed and rolled back, are shown
// apart.
func TestMonitorCountsOnlyTheService(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewMigratedDB(t)
	pgtest.WithoutAutovacuum(t, dsn)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if doc := monitorJSON(t, dsn); doc.Status != monitor.SampleBaseline {
		t.Fatalf("first sample %+v, want a baseline", doc)
	}
	const n = 3000
	svc := serviceConn(t, dsn)
	var wg sync.WaitGroup
	var svcErr error
	wg.Go(func() { svcErr = serviceRows(svc, n, 250) })
	payload := payloadFile(t, heartRates(200))
	for run := range 2 {
		r := runCmd(ctx, "", "ingest", "--dsn", dsn, "--sample", "3000", "--seed", "42", "--batch-size", "500", "--target", "live", "--json")
		if r.code != 0 {
			t.Fatalf("sample ingest %d: exit %d: %s", run+1, r.code, r.stderr)
		}
		// A payload import goes live too, the second time onto its own keys.
		if r := runCmd(ctx, "", "ingest", "--dsn", dsn, "--file", payload, "--json"); r.code != 0 {
			t.Fatalf("file ingest %d: exit %d: %s", run+1, r.code, r.stderr)
		}
	}
	wg.Wait()
	if svcErr != nil {
		t.Fatal(svcErr)
	}
	doc := monitorJSON(t, dsn)
	want := map[string]int64{"activity_metrics_v2": n, "users": 1}
	var own, ownRolledBack int64
	for _, ts := range doc.Tables {
		if ts.Rows != want[ts.Table] || ts.RolledBack != 0 || ts.RollbackUnknown != 0 {
			t.Errorf("%s: %d rows, %d rolled back, %d unknown; the service wrote %d rows and rolled back none (hmperf: %d rows, %d rolled back)",
				ts.Table, ts.Rows, ts.RolledBack, ts.RollbackUnknown, want[ts.Table], ts.HmperfRows, ts.HmperfRolledBack)
		}
		own += ts.HmperfRows
		ownRolledBack += ts.HmperfRolledBack
		delete(want, ts.Table)
	}
	if len(want) > 0 {
		t.Errorf("tables the service wrote missing from the sample: %v (sample %+v)", want, doc.Tables)
	}
	// The test proves something only if hmperf did write, and roll back,
	// in the same interval.
	if own == 0 || ownRolledBack == 0 {
		t.Errorf("hmperf's own rows %d, rolled back %d: the ingest runs should show as hmperf's", own, ownRolledBack)
	}
	var observed, rolledBack int64
	queryRow(t, dsn, `SELECT coalesce(sum(observed_rows), 0)::bigint, coalesce(sum(rolled_back_rows), 0)::bigint
		FROM real_time_constraint_performance`, &observed, &rolledBack)
	if observed != n+1 || rolledBack != 0 {
		t.Errorf("real_time_constraint_performance: %d observed rows, %d rolled back; want the service's %d and 0", observed, rolledBack, n+1)
	}
}

// TestOnlyLabelledSessions lists pg_stat_activity while hmperf runs
// commands beside the service: every session on the database is the
// service's, the observer's, or labelled "hmperf <command>" after the
// command that opened it.
func TestOnlyLabelledSessions(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewMigratedDB(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	observer := serviceConn(t, dsn)
	var db string
	if err := observer.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil {
		t.Fatal(err)
	}
	commands := [][]string{
		{"ingest", "--sample", "20000", "--batch-size", "500", "--target", "live"},
		{"monitor", "--interval", "50ms"},
		{"alerts"},
		{"migrate", "status"},
		{"indexes", "status"},
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	for _, args := range commands {
		wg.Go(func() {
			// The short commands run again and again until ingest ends.
			for runCtx.Err() == nil {
				runCmd(runCtx, "", append(args, "--dsn", dsn)...)
				if args[0] == "ingest" {
					stop()
				}
			}
		})
	}
	seen := map[string]int{}
	for runCtx.Err() == nil {
		// A backend still starting up shows with no state and no
		// application_name yet, whoever its client is: it is counted once
		// it has started, under the name its client gave.
		rows, err := observer.Query(ctx, `SELECT coalesce(application_name, '') FROM pg_stat_activity
			WHERE datname = $1 AND backend_type = 'client backend' AND pid <> pg_backend_pid()
			  AND state IS NOT NULL`, db)
		if err != nil {
			t.Fatal(err)
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			seen[name]++
		}
		time.Sleep(5 * time.Millisecond)
	}
	wg.Wait()
	for name, count := range seen {
		if name != serviceApp && !strings.HasPrefix(name, "hmperf ") {
			t.Errorf("%d sightings of a session labelled %q: not the service's, not hmperf's", count, name)
		}
	}
	for _, want := range []string{"hmperf ingest", "hmperf monitor"} {
		if seen[want] == 0 {
			t.Errorf("never saw %q among %v", want, slices.Sorted(maps.Keys(seen)))
		}
	}
}

// TestDashboardIngestIsNotTheService: the dashboard's sample ingest (the i
// key, live on hmperf's own database) runs while the service writes, and is
// stopped with a batch in flight; `monitor` reports as the service's
// exactly what the service wrote, hmperf's rows apart.
func TestDashboardIngestIsNotTheService(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewMigratedDB(t)
	pgtest.WithoutAutovacuum(t, dsn)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	monitorJSON(t, dsn)
	src := pollSourceOf(t, dsn, false, 2000)
	if err := src.StartIngest(ctx); err != nil {
		t.Fatal(err)
	}
	const n = 1000
	if err := serviceRows(serviceConn(t, dsn), n, 100); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	if err := src.StopIngest(); err != nil {
		t.Fatal(err)
	}
	doc := monitorJSON(t, dsn)
	want := map[string]int64{"activity_metrics_v2": n, "users": 1}
	var own int64
	for _, ts := range doc.Tables {
		if ts.Rows != want[ts.Table] || ts.RolledBack != 0 || ts.RollbackUnknown != 0 {
			t.Errorf("%s: %d rows, %d rolled back, %d unknown; the service wrote %d and rolled back none (hmperf: %d rows, %d rolled back)",
				ts.Table, ts.Rows, ts.RolledBack, ts.RollbackUnknown, want[ts.Table], ts.HmperfRows, ts.HmperfRolledBack)
		}
		own += ts.HmperfRows
	}
	if own == 0 {
		t.Errorf("the dashboard's sample ingest shows nowhere as hmperf's: %+v", doc.Tables)
	}
}
