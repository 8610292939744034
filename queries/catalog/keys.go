package catalog

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"hmperf/engine"
	"hmperf/queries"
)

// MissingKey is a metric table with no unique index on the columns that
// make two of its rows the same record (the engine's dedup key, in live
// names): the database does not stop a record stored twice, so hmperf's
// ingest skips stored keys itself (an anti-join) and only the index would
// stop the service's own duplicates.
type MissingKey struct {
	Table string   `json:"table"` // schema-qualified
	Key   []string `json:"key"`
	// Index is the statement that would enforce the key. hmperf never runs
	// it: the table is the service's, and the build fails while duplicate
	// keys are stored.
	Index string `json:"index"`
	// ServedBy is the existing index whose leading columns are all key
	// columns, most of them first, which ingest's anti-join looks keys up
	// in; "" when none is, and each batch then reads the whole table.
	ServedBy string `json:"served_by,omitempty"`
	// Covered is how many key columns lead ServedBy.
	Covered int `json:"served_columns,omitempty"`
}

// MissingKeys lists the metric tables (as the search path resolves their
// names) without a unique index on their natural key, in kind order. Tables
// that do not exist, or lack a key column, are left out: adopt reports
// those as differences already.
func MissingKeys(ctx context.Context, db queries.DBTX) ([]MissingKey, error) {
	var out []MissingKey
	for _, k := range engine.Kinds() {
		t, err := Read(ctx, db, pgx.Identifier{k.Table()})
		if errors.Is(err, ErrNoTable) {
			continue
		}
		if err != nil {
			return nil, err
		}
		key, ok := NaturalKey(engine.TableOf(k), t)
		if !ok || t.HasUniqueKey(key) {
			continue
		}
		mk := MissingKey{Table: t.String(), Key: key, Index: uniqueIndexStatement(t, key)}
		if mk.ServedBy, mk.Covered, err = ServingIndex(ctx, db, t, key); err != nil {
			return nil, err
		}
		out = append(out, mk)
	}
	return out, nil
}

// uniqueIndexStatement is the statement that would enforce key on t:
// CONCURRENTLY, so the service's writes go on while it builds, except on a
// partitioned table, where PostgreSQL does not offer it (build it on each
// partition concurrently and attach, or accept the lock).
func uniqueIndexStatement(t *Table, key []string) string {
	name := t.Name + "_" + strings.Join(key, "_") + "_key"
	if len(name) > 63 { // PostgreSQL's identifier limit
		name = name[:63]
	}
	cols := make([]string, len(key))
	for i, c := range key {
		cols[i] = pgx.Identifier{c}.Sanitize()
	}
	how := "CREATE UNIQUE INDEX CONCURRENTLY"
	if t.Partitioned {
		how = "CREATE UNIQUE INDEX"
	}
	return fmt.Sprintf("%s %s ON %s (%s)", how, pgx.Identifier{name}.Sanitize(), t.Ident().Sanitize(), strings.Join(cols, ", "))
}

// ServingIndex finds the valid, non-partial btree index of t whose leading
// columns are key columns, the most of them, and says how many: the index
// a lookup by key probes ("", 0 when none).
func ServingIndex(ctx context.Context, db queries.DBTX, t *Table, key []string) (string, int, error) {
	rows, err := db.Query(ctx, `
		SELECT ic.relname, array_agg(coalesce(a.attname, '') ORDER BY k.ord)
		  FROM pg_index i
		  JOIN pg_class ic ON ic.oid = i.indexrelid
		  JOIN pg_am am ON am.oid = ic.relam AND am.amname = 'btree'
		 CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
		  LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
		 WHERE i.indrelid = $1 AND i.indisvalid AND i.indpred IS NULL
		 GROUP BY ic.relname
		 ORDER BY ic.relname`, t.OID)
	if err != nil {
		return "", 0, fmt.Errorf("read the indexes of %s: %w", t, err)
	}
	best, covered := "", 0
	var name string
	var cols []string
	_, err = pgx.ForEachRow(rows, []any{&name, &cols}, func() error {
		n := 0
		for n < len(cols) && slices.Contains(key, cols[n]) {
			n++
		}
		if n > covered {
			best, covered = name, n
		}
		return nil
	})
	if err != nil {
		return "", 0, fmt.Errorf("read the indexes of %s: %w", t, err)
	}
	return best, covered, nil
}
