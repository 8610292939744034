package ingest

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/engine"
	"hmperf/queries"
	"hmperf/queries/catalog"
)

// A table without a unique index on the engine's dedup key (the service's
// heart_rate_metrics: its only unique key is the uuid id) cannot answer ON
// CONFLICT for it, so every import of the same file would add its rows
// again. For such a table each batch first asks which of its keys are
// stored (one query joining the keys, sent as arrays, to the table through
// its index: an anti-join done in two steps), leaves those records out,
// counted as duplicates, and writes the rest as any batch, by COPY, all in
// the batch's transaction; nothing is added to the service's table (no
// index, no trigger). Measured faster than moving the rows through the
// staging table with INSERT … SELECT … WHERE NOT EXISTS, which loses
// COPY's multi-row inserts (docs/measurements.md).
//
// Concurrency: READ COMMITTED lets two transactions each see no row for a
// key and both insert it. Every hmperf writer of such a table therefore
// takes a transaction-level advisory lock per table (keyLockClass, the
// table's oid) before its lookup and holds it to its commit, so batches of
// one run and of runs at once insert one after the other and each sees
// what the one before committed. One lock per table, not per key: a batch
// holds thousands of keys, and as many advisory locks would fill the shared
// lock table (max_locks_per_transaction per connection); the price is that
// batches writing the same table wait for each other from their lookup to
// their commit. The service does not take the lock: a row it inserts
// between the lookup and the commit is not seen. Only a unique index closes
// that window (migrate adopt names it).

// keyLockClass is the first key of the advisory lock (class, table oid)
// that serializes hmperf's lookups and inserts into one table without a
// unique key ("hmky").
const keyLockClass int32 = 0x686d6b79

// keyLockWait bounds the wait for another hmperf batch's key lock. The
// connection's lock_timeout (1 s) keeps hmperf from queuing the service's
// statements behind it; no statement of the service's waits for this lock,
// so its wait may be as long as a batch takes.
const keyLockWait = "60s"

// antiJoin reports whether the table's duplicates are skipped by hmperf's
// lookup of stored keys rather than by ON CONFLICT on a unique key.
func (t *tableTarget) antiJoin() bool { return t.stored != "" }

// keyCondition is "x.k = k.k AND …" over the table's natural key: plain
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

// storedQuery is the statement that returns the 1-based positions, in
// arrays of the key's values (one parameter per key column, in Natural
// order, typed as the live column), of the keys the table already holds.
// Where an index leads with key columns (indexed), each key is one probe
// of it: a LATERAL subquery with LIMIT 1, which the planner cannot turn
// into a hash join over the whole table (it did for EXISTS, at 5,000 keys
// against 200,000 rows, and read the table whole for every batch).
// Without one, EXISTS lets it read the table once per batch rather than
// once per key.
func storedQuery(t *tableTarget, indexed bool) string {
	params := make([]string, len(t.m.Natural))
	names := make([]string, len(t.m.Natural))
	for i, col := range t.m.Natural {
		c, _ := t.m.Table.Column(col)
		params[i] = fmt.Sprintf("$%d::%s[]", i+1, c.Type)
		names[i] = pgx.Identifier{col}.Sanitize()
	}
	keys := fmt.Sprintf("unnest(%s) WITH ORDINALITY AS k(%s, hmperf_n)", strings.Join(params, ", "), strings.Join(names, ", "))
	match := fmt.Sprintf("SELECT FROM %s x WHERE %s", t.ident.Sanitize(), keyCondition(t.m, qualified("x"), qualified("k")))
	if indexed {
		return fmt.Sprintf("SELECT k.hmperf_n FROM %s CROSS JOIN LATERAL (%s LIMIT 1) s", keys, match)
	}
	return fmt.Sprintf("SELECT k.hmperf_n FROM %s WHERE EXISTS (%s)", keys, match)
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

// skipStored drops from recs the records whose natural key the table
// already holds and returns the others with their positions in recs. The
// key's values go as one array per column, as the live rows carry them.
func skipStored(ctx context.Context, tx pgx.Tx, t *tableTarget, recs []engine.Record) ([]engine.Record, []int, error) {
	cols := make([][]any, len(t.keyAt))
	var raw, vals []any
	for _, r := range recs {
		raw = r.AppendValues(raw[:0])
		vals = t.m.Row(vals[:0], raw)
		for i, at := range t.keyAt {
			cols[i] = append(cols[i], vals[at])
		}
	}
	args := make([]any, len(cols))
	for i, c := range cols {
		args[i] = typedArray(c)
	}
	rows, err := tx.Query(ctx, t.stored, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("look up the stored keys of %s: %w", t.name, err)
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, nil, fmt.Errorf("look up the stored keys of %s: %w", t.name, err)
	}
	stored := make([]bool, len(recs))
	for _, n := range found {
		stored[n-1] = true
	}
	repeatsAtDBPrecision(recs, t, stored)
	kept := make([]engine.Record, 0, len(recs)-len(found))
	pos := make([]int, 0, cap(kept))
	for i, r := range recs {
		if !stored[i] {
			kept, pos = append(kept, r), append(pos, i)
		}
	}
	return kept, pos, nil
}

// repeatsAtDBPrecision marks as stored the records of recs whose key, as
// the database compares it, an earlier record of the batch has: the
// engine's keys keep nanoseconds, a timestamptz microseconds (pgx sends
// the instant truncated to them), so two records the in-batch dedup keeps
// apart can be one key to the table. ON CONFLICT catches those where a
// unique key exists; here the batch's COPY would store both.
func repeatsAtDBPrecision(recs []engine.Record, t *tableTarget, stored []bool) {
	seen := make(map[string]struct{}, len(recs))
	var raw, vals []any
	var key []byte
	for i, r := range recs {
		raw = r.AppendValues(raw[:0])
		vals = t.m.Row(vals[:0], raw)
		key = key[:0]
		for _, at := range t.keyAt {
			key = appendKeyValue(key, vals[at])
		}
		if _, dup := seen[string(key)]; dup {
			stored[i] = true
			continue
		}
		seen[string(key)] = struct{}{}
	}
}

// appendKeyValue appends one key value, length-prefixed where its length
// varies, so that no two keys share an encoding.
func appendKeyValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case time.Time:
		return binary.AppendVarint(b, v.UnixMicro())
	case [16]byte:
		return append(b, v[:]...)
	case int64:
		return binary.AppendVarint(b, v)
	case string:
		return append(binary.AppendUvarint(b, uint64(len(v))), v...)
	}
	s := fmt.Sprint(v)
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// typedArray is one key column's values as a slice pgx encodes as an
// array: the engine's key values are uuids, times, integers or strings,
// never NULL.
func typedArray(vals []any) any {
	if len(vals) == 0 {
		return []string{}
	}
	switch vals[0].(type) {
	case [16]byte:
		return convertAll[[16]byte](vals)
	case time.Time:
		return convertAll[time.Time](vals)
	case int64:
		return convertAll[int64](vals)
	case string:
		return convertAll[string](vals)
	}
	return vals
}

func convertAll[T any](vals []any) []T {
	out := make([]T, len(vals))
	for i, v := range vals {
		out[i], _ = v.(T)
	}
	return out
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

// writeNew writes the records of recs whose natural key the table does not
// hold yet, the others counted as duplicates, for a table without a unique
// key on it; the batch holds the table's key lock (lockKeys).
func writeNew(ctx context.Context, tx pgx.Tx, t *tableTarget, recs []engine.Record) (tableWrite, error) {
	kept, pos, err := skipStored(ctx, tx, t, recs)
	if err != nil {
		return tableWrite{}, err
	}
	plain := *t
	plain.stored = "" // the same table, written as if it had the key
	w, err := writeTable(ctx, tx, &plain, kept)
	if err != nil {
		return tableWrite{}, err
	}
	w.Duplicates += len(recs) - len(kept)
	for i := range w.Rejected {
		w.Rejected[i].Index = pos[w.Rejected[i].Index]
	}
	return w, nil
}

// probeIndex makes a table without a unique key look its stored keys up by
// index probes where an index leads with key columns (storedQuery).
func (t *tableTarget) probeIndex(ctx context.Context, db queries.DBTX) error {
	if !t.antiJoin() {
		return nil
	}
	name, _, err := catalog.ServingIndex(ctx, db, t.m.Table, t.m.Natural)
	if err != nil {
		return err
	}
	if name != "" {
		t.stored = storedQuery(t, true)
	}
	return nil
}
