package migrations_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"hmperf/migrations"
	"hmperf/queries/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// testCtx returns a context that ends with the test (or after two minutes).
func testCtx(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// connect opens one connection to dsn, closed at cleanup.
func connect(t testing.TB, dsn string) *pgx.Conn {
	t.Helper()
	ctx := testCtx(t)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// newMigrator opens a Migrator over src (nil: the embedded files), closed at
// cleanup.
func newMigrator(t testing.TB, dsn string, src fs.FS) *migrations.Migrator {
	t.Helper()
	m, err := migrations.New(dsn, src)
	if err != nil {
		t.Fatalf("open migrator: %v", err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// queryStrings runs sql and returns its rows, each rendered as one line.
func queryStrings(t testing.TB, conn *pgx.Conn, sql string, args ...any) []string {
	t.Helper()
	rows, err := conn.Query(testCtx(t), sql, args...)
	if err != nil {
		t.Fatalf("query %q: %v", firstLine(sql), err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatalf("scan: %v", err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = fmt.Sprint(v)
		}
		out = append(out, strings.Join(parts, " | "))
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("query %q: %v", firstLine(sql), err)
	}
	return out
}

func queryInt(t testing.TB, conn *pgx.Conn, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := conn.QueryRow(testCtx(t), sql, args...).Scan(&n); err != nil {
		t.Fatalf("query %q: %v", firstLine(sql), err)
	}
	return n
}

func exec(t testing.TB, conn *pgx.Conn, sql string, args ...any) {
	t.Helper()
	if _, err := conn.Exec(testCtx(t), sql, args...); err != nil {
		t.Fatalf("exec %q: %v", firstLine(sql), err)
	}
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}

// pgErr returns the PostgreSQL error inside err, or nil.
func pgErr(err error) *pgconn.PgError {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe
	}
	return nil
}

// schemaQueries describe everything the migrations create in the public
// schema, as sorted text, without OIDs: relations and their partition bounds,
// columns, constraints, indexes, functions, views, triggers, types, domains,
// enums, sequences, comments, and the configuration rows the migrations seed.
var schemaQueries = []string{
	`SELECT 'rel', c.relname, c.relkind::text, c.relpersistence::text,
	        coalesce(pg_get_expr(c.relpartbound, c.oid), ''),
	        coalesce((SELECT p.relname FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent WHERE i.inhrelid = c.oid), ''),
	        coalesce(array_to_string(c.reloptions, ','), '')
	   FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	  WHERE n.nspname = 'public'`,
	// A column's position counts live columns only: a column dropped by a
	// down migration leaves a gap in attnum that the next up does not fill.
	`SELECT 'col', c.relname,
	        (SELECT count(*) FROM pg_attribute l
	          WHERE l.attrelid = a.attrelid AND l.attnum > 0 AND l.attnum <= a.attnum AND NOT l.attisdropped)::text,
	        a.attname, format_type(a.atttypid, a.atttypmod),
	        a.attnotnull::text, a.attidentity::text, a.attgenerated::text,
	        coalesce(pg_get_expr(d.adbin, d.adrelid), '')
	   FROM pg_attribute a
	   JOIN pg_class c ON c.oid = a.attrelid
	   JOIN pg_namespace n ON n.oid = c.relnamespace
	   LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
	  WHERE n.nspname = 'public' AND a.attnum > 0 AND NOT a.attisdropped`,
	`SELECT 'con', coalesce(c.relname, t.typname::text), k.conname, pg_get_constraintdef(k.oid),
	        k.convalidated::text, k.condeferrable::text
	   FROM pg_constraint k
	   JOIN pg_namespace n ON n.oid = k.connamespace
	   LEFT JOIN pg_class c ON c.oid = k.conrelid
	   LEFT JOIN pg_type t ON t.oid = k.contypid
	  WHERE n.nspname = 'public'`,
	`SELECT 'idx', tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'`,
	`SELECT 'fn', p.proname, pg_get_function_identity_arguments(p.oid), pg_get_functiondef(p.oid)
	   FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
	  WHERE n.nspname = 'public'`,
	`SELECT 'view', viewname, definition FROM pg_views WHERE schemaname = 'public'`,
	`SELECT 'trg', c.relname, tg.tgname, pg_get_triggerdef(tg.oid), tg.tgenabled::text
	   FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
	  WHERE n.nspname = 'public' AND NOT tg.tgisinternal`,
	`SELECT 'type', t.typname, t.typtype::text, format_type(t.typbasetype, t.typtypmod), t.typnotnull::text,
	        coalesce(t.typdefault, ''),
	        coalesce((SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid), '')
	   FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
	  WHERE n.nspname = 'public'`,
	`SELECT 'seq', sequencename, data_type::text, start_value::text, increment_by::text, max_value::text
	   FROM pg_sequences WHERE schemaname = 'public'`,
	`SELECT 'comment', d.classoid::regclass::text,
	        coalesce((SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = d.objoid AND a.attnum = d.objsubid
	                   AND d.objsubid > 0 AND d.classoid = 'pg_class'::regclass), ''),
	        coalesce((SELECT c.relname FROM pg_class c WHERE c.oid = d.objoid AND d.classoid = 'pg_class'::regclass), ''),
	        coalesce((SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' FROM pg_proc p
	                   WHERE p.oid = d.objoid AND d.classoid = 'pg_proc'::regclass), ''),
	        d.description
	   FROM pg_description d
	  WHERE (d.classoid = 'pg_class'::regclass AND d.objoid IN
	           (SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'))
	     OR (d.classoid = 'pg_proc'::regclass AND d.objoid IN
	           (SELECT p.oid FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'))`,
	`SELECT 'seed', 'partition_maintenance', to_jsonb(p)::text FROM hmperf.partition_maintenance p`,
	`SELECT 'seed', 'index_creation_strategy', to_jsonb(s)::text FROM index_creation_strategy s`,
	`SELECT 'seed', 'constraint_alert_thresholds', to_jsonb(a)::text FROM constraint_alert_thresholds a`,
}

// schemaSnapshot renders the schema of the database behind conn as sorted
// lines. Seed queries whose table does not exist (lower versions) are skipped.
func schemaSnapshot(t testing.TB, conn *pgx.Conn) []string {
	t.Helper()
	var out []string
	for _, q := range schemaQueries {
		if strings.HasPrefix(q, `SELECT 'seed'`) {
			table := strings.Split(q, "'")[3]
			var exists bool
			if err := conn.QueryRow(testCtx(t), `SELECT to_regclass($1) IS NOT NULL`, table).Scan(&exists); err != nil {
				t.Fatal(err)
			}
			if !exists {
				continue
			}
		}
		out = append(out, queryStrings(t, conn, q)...)
	}
	sort.Strings(out)
	return out
}

// diffLines describes how two sorted snapshots differ (at most a few lines).
func diffLines(a, b []string) string {
	inA := map[string]int{}
	for _, l := range a {
		inA[l]++
	}
	for _, l := range b {
		inA[l]--
	}
	var onlyA, onlyB []string
	for l, n := range inA {
		switch {
		case n > 0:
			onlyA = append(onlyA, l)
		case n < 0:
			onlyB = append(onlyB, l)
		}
	}
	sort.Strings(onlyA)
	sort.Strings(onlyB)
	trim := func(ls []string) string {
		if len(ls) > 8 {
			ls = append(ls[:8:8], fmt.Sprintf("... and %d more", len(ls)-8))
		}
		for i, l := range ls {
			if len(l) > 300 {
				ls[i] = l[:300] + "..."
			}
		}
		return strings.Join(ls, "\n    ")
	}
	return fmt.Sprintf("only before (%d):\n    %s\nonly after (%d):\n    %s", len(onlyA), trim(onlyA), len(onlyB), trim(onlyB))
}

func sameSnapshot(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// checkRolledBack runs sql in a transaction that is always rolled back, so
// a test can show a statement works without changing what it compares.
func checkRolledBack(t testing.TB, conn *pgx.Conn, sql string, args ...any) {
	t.Helper()
	ctx := testCtx(t)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("%s: %v", firstLine(sql), err)
	}
}
