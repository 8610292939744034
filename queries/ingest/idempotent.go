package ingest

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"hmperf/queries/catalog"
)

// A table without a unique index on the engine's dedup key (the service's
// heart_rate_metrics: its only unique key is the uuid id) cannot answer ON
// CONFLICT for it, so every import of the same file would add its rows
// again. Such a table is written through its staging table with an
// anti-join instead: the rows whose key is already stored are left out and
// counted as duplicates, inside the batch's transaction, and nothing is
// added to the service's table (no index, no trigger).
//
// Concurrency: READ COMMITTED lets two transactions each see no row for a
// key and both insert it. Every hmperf writer of such a table therefore
// takes a transaction-level advisory lock per table (keyLockClass, the
// table's oid) before its anti-join and holds it to its commit, so batches
// of one run and of runs at once insert one after the other and each sees
// what the one before committed. One lock per table, not per key: a batch
// holds thousands of keys, and as many advisory locks would fill the shared
// lock table; the wait it costs is measured in the README. The service does
// not take the lock: a row it inserts during the anti-join is not seen.
// Only a unique index closes that window (migrate adopt names it).

// keyLockClass is the first key of the advisory lock (class, table oid)
// that serializes hmperf's anti-join inserts into one table ("hmky").
const keyLockClass int32 = 0x686d6b79

// keyLockWait bounds the wait for another hmperf batch's key lock. The
// connection's lock_timeout (1 s) keeps hmperf from queuing the service's
// statements behind it; no statement of the service's waits for this lock,
// so its wait may be as long as a batch takes.
const keyLockWait = "60s"

// antiJoin reports whether the table's duplicates are skipped by hmperf's
// anti-join rather than by ON CONFLICT on a unique key.
func (t *tableTarget) antiJoin() bool { return t.m.Key == nil }

// keyCondition is "x.k = s.k AND …" over the table's natural key: plain
// equality for NOT NULL columns, so an index on the key serves it, and IS
// NOT DISTINCT FROM where the live column admits NULL, so two NULLs match.
func keyCondition(m *catalog.Mapping, left, right func(col string) string) string {
	parts := make([]string, len(m.Natural))
	for i, col := range m.Natural {
		op := " = "
		if c, ok := m.Table.Column(col); !ok || !c.NotNull {
			op = " IS NOT DISTINCT FROM "
		}
		parts[i] = left(col) + op + right(col)
	}
	return strings.Join(parts, " AND ")
}

// qualified returns a function naming a column of alias.
func qualified(alias string) func(string) string {
	return func(col string) string { return alias + "." + pgx.Identifier{col}.Sanitize() }
}

// antiJoinMove is the statement moving the staging table's rows into the
// table, less those whose natural key it already holds. DISTINCT ON keeps
// one row per key as the database compares them (timestamps to the
// microsecond, where the engine's keys keep nanoseconds); ON CONFLICT DO
// NOTHING still catches any other unique index, as before.
func antiJoinMove(t *tableTarget) string {
	cols := make([]string, len(t.columns))
	for i, c := range t.columns {
		cols[i] = qualified("s")(c)
	}
	keys := make([]string, len(t.m.Natural))
	for i, c := range t.m.Natural {
		keys[i] = qualified("s")(c)
	}
	return fmt.Sprintf("INSERT INTO %s (%s) SELECT DISTINCT ON (%s) %s FROM %s s WHERE NOT EXISTS (SELECT 1 FROM %s x WHERE %s) ON CONFLICT DO NOTHING",
		t.ident.Sanitize(), columnList(t.columns), strings.Join(keys, ", "), strings.Join(cols, ", "), t.stage.Sanitize(),
		t.ident.Sanitize(), keyCondition(t.m, qualified("x"), qualified("s")))
}

// existsQuery is the statement asking whether one row's natural key is
// stored, its parameters the key's values in Natural order: the row-by-row
// path's anti-join.
func existsQuery(t *tableTarget) string {
	n := 0
	param := func(string) string { n++; return fmt.Sprintf("$%d", n) }
	return fmt.Sprintf("SELECT EXISTS (SELECT 1 FROM %s x WHERE %s)", t.ident.Sanitize(), keyCondition(t.m, qualified("x"), param))
}

// naturalKeyAt is the position in the written columns of each natural key
// column.
func naturalKeyAt(t *tableTarget) []int {
	at := make([]int, len(t.m.Natural))
	for i, k := range t.m.Natural {
		at[i] = slices.Index(t.columns, k)
	}
	return at
}

// stored reports whether the row vals (in the written columns' order) has
// a natural key the table already holds. Tables with a unique key never
// ask: ON CONFLICT answers there.
func stored(ctx context.Context, tx pgx.Tx, t *tableTarget, vals []any) (bool, error) {
	if !t.antiJoin() {
		return false, nil
	}
	args := make([]any, len(t.keyAt))
	for i, at := range t.keyAt {
		args[i] = vals[at]
	}
	var found bool
	if err := tx.QueryRow(ctx, t.exists, args...).Scan(&found); err != nil {
		return false, fmt.Errorf("look up the key of a row in %s: %w", t.name, err)
	}
	return found, nil
}

// lockKeys takes the key lock of every anti-join table the groups write,
// all at once and in oid order, before the batch writes anything: batches
// that write two such tables then cannot each hold one and wait for the
// other.
func (in *Ingester) lockKeys(ctx context.Context, tx pgx.Tx, groups []*group) error {
	var oids []int32
	for _, g := range groups {
		if t := in.lay.tables[g.kind]; t != nil && t.antiJoin() && len(g.keep) > 0 {
			oids = append(oids, int32(t.m.Table.OID)) // an oid's bits, as the int4 key takes them
		}
	}
	if len(oids) == 0 {
		return nil
	}
	slices.Sort(oids)
	var old string
	if err := tx.QueryRow(ctx, "SELECT current_setting('lock_timeout')").Scan(&old); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "SELECT set_config('lock_timeout', $1, true)", keyLockWait); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1::int, k) FROM unnest($2::int[]) WITH ORDINALITY AS u(k, n) ORDER BY n",
		keyLockClass, oids); err != nil {
		return fmt.Errorf("wait for other hmperf batches writing %s: %w", in.antiJoinNames(groups), err)
	}
	_, err := tx.Exec(ctx, "SELECT set_config('lock_timeout', $1, true)", old)
	return err
}

// antiJoinNames names the anti-join tables of groups, for messages.
func (in *Ingester) antiJoinNames(groups []*group) string {
	var names []string
	for _, g := range groups {
		if t := in.lay.tables[g.kind]; t != nil && t.antiJoin() {
			names = append(names, t.name)
		}
	}
	return strings.Join(names, ", ")
}
