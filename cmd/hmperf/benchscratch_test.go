package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestBenchLeavesTheServiceAloneFixture: on the service's database (the
// project's fixture), adopted, a benchmark by every write method, finished
// or failed, and the monitor feed's overhead measurement leave the service's tables, sequences and users exactly as
// they were, drops its scratch schema, and `hmperf alerts` says OK; a
// problem measured on the service's own layout still pages.
func TestBenchLeavesTheServiceAloneFixture(t *testing.T) {
	t.Parallel()
	benchLeavesTheServiceAlone(t, serviceDB(t))
}

// TestBenchLeavesTheServiceAloneDump is the same on the dump of the
// service's real database, where it is beside the project.
func TestBenchLeavesTheServiceAloneDump(t *testing.T) {
	t.Parallel()
	benchLeavesTheServiceAlone(t, serviceDumpDB(t))
}

func benchLeavesTheServiceAlone(t *testing.T, dsn string) {
	ctx := context.Background()
	adopt(t, dsn)
	// The service has written: its sequences and users are not empty.
	serviceWrite(t, dsn, 50)
	before := serviceFootprint(t, dsn)
	for _, method := range []string{"copy", "service", "function"} {
		r := runCmd(ctx, "", "bench", "--table", "all", "--rows", "200", "--reps", "1", "--method", method, "--yes", "--dsn", dsn)
		switch {
		case method == "function" && strings.Contains(r.stderr, `null value in column "email"`):
			// The report's functions add their row owner with a NULL
			// email, which the service's users (copied faithfully) refuse:
			// the run fails, and must still leave nothing behind.
		case r.code != 0:
			t.Fatalf("bench --method %s: exit %d\n%s", method, r.code, r.stderr)
		case !strings.Contains(r.stdout, "scratch copies"):
			t.Errorf("bench --method %s does not say its rows went to scratch copies:\n%s", method, r.stdout)
		}
		if diff := footprintDiff(before, serviceFootprint(t, dsn)); diff != "" {
			t.Errorf("bench --method %s changed the service's tables:\n%s", method, diff)
		}
		if n := scratchSchemas(t, dsn); n != 0 {
			t.Errorf("bench --method %s left %d scratch schemas", method, n)
		}
	}
	if r := runCmd(ctx, "", "bench", "--monitoring-overhead", "--rows", "100", "--reps", "2", "--yes", "--dsn", dsn); r.code != 0 {
		t.Fatalf("bench --monitoring-overhead: exit %d\n%s", r.code, r.stderr)
	}
	if diff := footprintDiff(before, serviceFootprint(t, dsn)); diff != "" {
		t.Errorf("bench --monitoring-overhead changed the service's tables:\n%s", diff)
	}
	if n := scratchSchemas(t, dsn); n != 0 {
		t.Errorf("bench --monitoring-overhead left %d scratch schemas", n)
	}
	if doc := alertsDoc(t, dsn); doc.ExitCode != 0 {
		t.Errorf("alerts after benchmarks: exit %d, %+v", doc.ExitCode, doc.Alerts)
	}
	// The check can fail: overhead measured on the service's own layout.
	liveOverhead(t, dsn, 230)
	if doc := alertsDoc(t, dsn); doc.ExitCode != 2 {
		t.Errorf("alerts with 230%% overhead on the live nutrition_metrics: exit %d, want 2", doc.ExitCode)
	}
}

// TestBenchCancelledLeavesNoScratch: a benchmark cancelled while it writes
// its scratch copies drops them, and has touched nothing of the service's.
func TestBenchCancelledLeavesNoScratch(t *testing.T) {
	t.Parallel()
	dsn := serviceDB(t)
	adopt(t, dsn)
	before := serviceFootprint(t, dsn)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		defer cancel()
		deadline := time.Now().Add(time.Minute)
		for time.Now().Before(deadline) && ctx.Err() == nil {
			if scratchSchemas(t, dsn) > 0 {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	r := runCmd(ctx, "", "bench", "--table", "all", "--rows", "20000", "--reps", "5", "--yes", "--dsn", dsn)
	if r.code == 0 || !strings.Contains(r.stderr, "cancelled") {
		t.Fatalf("cancelled bench: exit %d\n%s", r.code, r.stderr)
	}
	if n := scratchSchemas(t, dsn); n != 0 {
		t.Errorf("a cancelled bench left %d scratch schemas", n)
	}
	if diff := footprintDiff(before, serviceFootprint(t, dsn)); diff != "" {
		t.Errorf("a cancelled bench changed the service's tables:\n%s", diff)
	}
}

// adopt runs `hmperf migrate adopt --yes`.
func adopt(t *testing.T, dsn string) {
	t.Helper()
	if r := runCmd(context.Background(), "", "migrate", "adopt", "--yes", "--dsn", dsn); r.code != 0 {
		t.Fatalf("adopt: exit %d\n%s", r.code, r.stderr)
	}
}

// scratchSchemas counts the schemas that hold a benchmark's scratch copies.
func scratchSchemas(t *testing.T, dsn string) int {
	t.Helper()
	var n int
	queryRow(t, dsn, `SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'hmperf\_scratch\_%'`, &n)
	return n
}

// serviceFootprint is what any write leaves on the service's objects (every
// table outside hmperf's schemas except the report's monitoring tables,
// hmperf.write_sampling_skips): per table and partition the inserted,
// updated and deleted tuples, even rolled back, and how often it was
// vacuumed and analyzed by hand; each of their sequences' last value; the
// users' rows. It waits until no other client is connected first: a session
// flushes its statistics as it ends, and hmperf's have ended by then.
func serviceFootprint(t *testing.T, dsn string) map[string]string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	waitAlone(t, conn)
	for _, sql := range []string{"SELECT pg_stat_force_next_flush()", "SELECT pg_stat_clear_snapshot()"} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := conn.Query(ctx, `
		SELECT format('table %I.%I', s.schemaname, s.relname),
		       format('ins %s upd %s del %s vacuum %s analyze %s', s.n_tup_ins, s.n_tup_upd, s.n_tup_del, s.vacuum_count, s.analyze_count)
		  FROM pg_stat_user_tables s
		 WHERE NOT hmperf.write_sampling_skips(s.relid)
		UNION ALL
		SELECT format('sequence %I.%I', q.schemaname, q.sequencename), coalesce(q.last_value::text, 'unused')
		  FROM pg_sequences q
		  LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
		                       AND d.deptype IN ('a', 'i')
		                       AND d.objid = format('%I.%I', q.schemaname, q.sequencename)::regclass
		 WHERE q.schemaname !~ '^(hmperf$|hmperf_|pg_)'
		   AND (d.refobjid IS NULL OR NOT hmperf.write_sampling_skips(d.refobjid))
		UNION ALL
		SELECT 'users', count(*) || ' rows, digest ' || coalesce(md5(string_agg(u::text, ',' ORDER BY u::text)), '-')
		  FROM public.users u`)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		out[k] = v
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) < 10 {
		t.Fatalf("footprint of %d objects, want the service's tables, partitions and sequences: %v", len(out), out)
	}
	return out
}

// waitAlone waits until conn is the only client of its database.
func waitAlone(t *testing.T, conn *pgx.Conn) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var others int
		if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()`).Scan(&others); err != nil {
			t.Fatal(err)
		}
		if others == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d other sessions still connected", others)
		}
	}
}

// footprintDiff lists what differs between two footprints, "" for nothing.
func footprintDiff(before, after map[string]string) string {
	var out []string
	for k, b := range before {
		if a := after[k]; a != b {
			out = append(out, fmt.Sprintf("  %s: %s -> %s", k, b, a))
		}
	}
	for k, a := range after {
		if _, ok := before[k]; !ok {
			out = append(out, fmt.Sprintf("  %s: new, %s", k, a))
		}
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}
