// Package catalog reads the live layout of a table from pg_catalog (its
// columns with their types, NOT NULLs, defaults, identity and generated
// columns, its unique keys and its partitions) and maps the engine's fields
// onto it, so writers write what the database has instead of what hmperf's
// own migrations would have created.
package catalog

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"hmperf/queries"
)

// ErrNoTable is returned (wrapped) by Read when the table does not exist.
var ErrNoTable = errors.New("no such table")

// Column is one live column of a table.
type Column struct {
	Name       string
	Type       string // as format_type prints it, e.g. "uuid", "character varying(100)"
	TypeOID    uint32
	NotNull    bool
	HasDefault bool
	Identity   bool // GENERATED ... AS IDENTITY
	Generated  bool // GENERATED ALWAYS AS (...) STORED
}

// Filled reports whether the database fills the column when an insert
// leaves it out: it has a default, is an identity or a generated column, or
// accepts NULL.
func (c Column) Filled() bool {
	return c.HasDefault || c.Identity || c.Generated || !c.NotNull
}

// Table is the live layout of one table.
type Table struct {
	OID         uint32
	Schema      string
	Name        string
	Partitioned bool
	Columns     []Column   // in attnum order, dropped columns left out
	UniqueKeys  [][]string // columns of each unique index usable as an ON CONFLICT target
	Children    []string   // direct partitions, by name (in Schema unless qualified)
}

// Ident is the table's schema-qualified identifier.
func (t *Table) Ident() pgx.Identifier { return pgx.Identifier{t.Schema, t.Name} }

// String is the table's schema-qualified name, for messages.
func (t *Table) String() string { return t.Schema + "." + t.Name }

// Column returns the column called name.
func (t *Table) Column(name string) (Column, bool) {
	for _, c := range t.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

// HasUniqueKey reports whether some unique index covers exactly cols, in
// any order: the ON CONFLICT target PostgreSQL would accept.
func (t *Table) HasUniqueKey(cols []string) bool {
	want := slices.Sorted(slices.Values(cols))
	for _, k := range t.UniqueKeys {
		if slices.Equal(slices.Sorted(slices.Values(k)), want) {
			return true
		}
	}
	return false
}

// Read reads the live layout of the table named by ident: {"name"} is
// resolved through the search path as an unqualified name in SQL would be,
// {"schema", "name"} names the schema.
func Read(ctx context.Context, db queries.DBTX, ident pgx.Identifier) (*Table, error) {
	t := &Table{}
	var kind string
	err := db.QueryRow(ctx, `
		SELECT c.oid, n.nspname, c.relname, c.relkind::text
		  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		 WHERE c.oid = to_regclass($1)`, ident.Sanitize()).Scan(&t.OID, &t.Schema, &t.Name, &kind)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("table %s: %w", ident.Sanitize(), ErrNoTable)
	}
	if err != nil {
		return nil, fmt.Errorf("read table %s: %w", ident.Sanitize(), err)
	}
	t.Partitioned = kind == "p"
	if err := t.readColumns(ctx, db); err != nil {
		return nil, err
	}
	if err := t.readKeys(ctx, db); err != nil {
		return nil, err
	}
	if err := t.readChildren(ctx, db); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *Table) readColumns(ctx context.Context, db queries.DBTX) error {
	rows, err := db.Query(ctx, `
		SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.atttypid, a.attnotnull,
		       a.atthasdef AND a.attgenerated = '', a.attidentity <> '', a.attgenerated <> ''
		  FROM pg_attribute a
		 WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
		 ORDER BY a.attnum`, t.OID)
	if err != nil {
		return fmt.Errorf("read columns of %s: %w", t, err)
	}
	t.Columns, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Column, error) {
		var c Column
		err := r.Scan(&c.Name, &c.Type, &c.TypeOID, &c.NotNull, &c.HasDefault, &c.Identity, &c.Generated)
		return c, err
	})
	if err != nil {
		return fmt.Errorf("read columns of %s: %w", t, err)
	}
	return nil
}

// readKeys lists the unique indexes that can back ON CONFLICT: valid, not
// partial, on plain columns only.
func (t *Table) readKeys(ctx context.Context, db queries.DBTX) error {
	rows, err := db.Query(ctx, `
		SELECT array_agg(a.attname ORDER BY k.ord)
		  FROM pg_index i
		  CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
		  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
		 WHERE i.indrelid = $1 AND i.indisunique AND i.indisvalid AND i.indpred IS NULL
		   AND NOT (0 = ANY (i.indkey::int2[]))
		 GROUP BY i.indexrelid
		 ORDER BY i.indexrelid`, t.OID)
	if err != nil {
		return fmt.Errorf("read unique keys of %s: %w", t, err)
	}
	t.UniqueKeys, err = pgx.CollectRows(rows, pgx.RowTo[[]string])
	if err != nil {
		return fmt.Errorf("read unique keys of %s: %w", t, err)
	}
	return nil
}

func (t *Table) readChildren(ctx context.Context, db queries.DBTX) error {
	if !t.Partitioned {
		return nil
	}
	rows, err := db.Query(ctx, `
		SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		 WHERE i.inhparent = $1 ORDER BY c.relname`, t.OID)
	if err != nil {
		return fmt.Errorf("read partitions of %s: %w", t, err)
	}
	t.Children, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("read partitions of %s: %w", t, err)
	}
	return nil
}
