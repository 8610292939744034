package pgtest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Footprint is what any write leaves on a database's own objects (every
// table outside hmperf's schemas except the report's monitoring tables,
// hmperf.write_sampling_skips): per table and partition the inserted,
// updated and deleted tuples, even rolled back, and how often it was
// vacuumed and analyzed by hand; each of their sequences' last value; the
// users' rows. It needs hmperf's schema (migration 0025). It waits until no
// other client is connected first: a session flushes its statistics as it
// ends, so the sessions that wrote must be closed.
func Footprint(t testing.TB, dsn string) map[string]string {
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
func waitAlone(t testing.TB, conn *pgx.Conn) {
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

// FootprintDiff lists what differs between two footprints, "" for nothing.
func FootprintDiff(before, after map[string]string) string {
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
