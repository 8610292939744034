// Package sandbox keeps twins of live tables in schema hmperf_sandbox, so
// that generated data on a database hmperf did not create never lands in
// the tables its service writes. A twin is made with
// CREATE TABLE ... (LIKE live INCLUDING ALL): the same columns, defaults,
// CHECKs, NOT NULLs and indexes, no triggers and no foreign keys. A
// partitioned table's twin is partitioned by the same key, with a twin of
// every partition's bounds and a DEFAULT partition where the live table has
// none, so every generated row has somewhere to go.
package sandbox

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"hmperf/queries"
	"hmperf/queries/catalog"
	"hmperf/queries/lockwait"
)

// Schema is the schema the twins live in; migration 0026 creates it and its
// down migration drops it with everything in it.
const Schema = "hmperf_sandbox"

// Ensure creates the twin of each live table that has none yet, one table
// per transaction (the twins are independent, so the schema is consistent
// between them, and each LIKE holds its read lock on a live table only
// while that table's twin is made), serialised against other hmperf
// processes doing the same. A table whose lock wait timed out is retried
// under p. A twin made earlier is kept as it is: writers read the twin's
// own layout from the catalogue, so an older twin is written correctly all
// the same.
func Ensure(ctx context.Context, db queries.DBTX, live []*catalog.Table, p lockwait.Policy) error {
	if err := schemaExists(ctx, db); err != nil {
		return err
	}
	for _, t := range live {
		err := p.InTx(ctx, fmt.Sprintf("sandbox twin of %s", t), db, func(ctx context.Context, tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext($1))", Schema); err != nil {
				return err
			}
			return CopyTable(ctx, tx, Schema, t)
		})
		if err != nil && !errors.As(err, new(*lockwait.ExhaustedError)) {
			return fmt.Errorf("sandbox twin of %s: %w", t, err)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// schemaExists checks that migration 0026 made the sandbox's schema.
func schemaExists(ctx context.Context, db queries.DBTX) error {
	tx, err := db.Begin(ctx)
	if err != nil {
		return err
	}
	defer queries.Rollback(tx)
	var exists bool
	if err := tx.QueryRow(ctx, "SELECT to_regnamespace($1) IS NOT NULL", Schema).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		return fmt.Errorf("schema %s does not exist: run `hmperf migrate up` (migration 0026 creates it)", Schema)
	}
	return nil
}

// Ident is the twin's identifier for a live table name.
func Ident(name string) pgx.Identifier { return pgx.Identifier{Schema, name} }

// CopyTable creates, in schema, a twin of the live table t under the same
// name, as this package describes, unless schema already has a table of
// that name. Ensure uses it for the sandbox; benchmarks for their scratch
// copies.
func CopyTable(ctx context.Context, tx pgx.Tx, schema string, t *catalog.Table) error {
	ident := func(name string) pgx.Identifier { return pgx.Identifier{schema, name} }
	var exists bool
	if err := tx.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", ident(t.Name).Sanitize()).Scan(&exists); err != nil || exists {
		return err
	}
	create := fmt.Sprintf("CREATE TABLE %s (LIKE %s INCLUDING ALL)", ident(t.Name).Sanitize(), t.Ident().Sanitize())
	if t.Partitioned {
		key, err := partitionKey(ctx, tx, t.OID)
		if err != nil {
			return err
		}
		create += " PARTITION BY " + key
	}
	if _, err := tx.Exec(ctx, create); err != nil {
		return err
	}
	if err := ownSequences(ctx, tx, schema, t.Name); err != nil {
		return err
	}
	if !t.Partitioned {
		return nil
	}
	hasDefault, err := twinPartitions(ctx, tx, schema, t.OID, t.Name)
	if err != nil {
		return err
	}
	if hasDefault {
		return nil
	}
	def := ident(defaultName(t.Name)).Sanitize()
	_, err = tx.Exec(ctx, fmt.Sprintf("CREATE TABLE %s PARTITION OF %s DEFAULT", def, ident(t.Name).Sanitize()))
	return err
}

// partitionKey is the table's PARTITION BY clause as the server prints it
// (pg_get_partkeydef quotes what needs quoting).
func partitionKey(ctx context.Context, tx pgx.Tx, oid uint32) (string, error) {
	var key string
	err := tx.QueryRow(ctx, "SELECT pg_get_partkeydef($1)", oid).Scan(&key)
	return key, err
}

// twinPartitions twins the partitions of the live table parent under the
// twin called name, recursing into sub-partitioned ones, and reports
// whether parent has a DEFAULT partition.
func twinPartitions(ctx context.Context, tx pgx.Tx, schema string, parent uint32, name string) (bool, error) {
	ident := func(n string) pgx.Identifier { return pgx.Identifier{schema, n} }
	type part struct {
		oid         uint32
		name, bound string
		partitioned bool
	}
	rows, err := tx.Query(ctx, `
		SELECT c.oid, c.relname, pg_get_expr(c.relpartbound, c.oid), c.relkind = 'p'
		  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		 WHERE i.inhparent = $1 ORDER BY c.relname`, parent)
	if err != nil {
		return false, err
	}
	parts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (part, error) {
		var p part
		err := r.Scan(&p.oid, &p.name, &p.bound, &p.partitioned)
		return p, err
	})
	if err != nil {
		return false, err
	}
	hasDefault := false
	for _, p := range parts {
		hasDefault = hasDefault || p.bound == "DEFAULT"
		create := fmt.Sprintf("CREATE TABLE %s PARTITION OF %s %s", ident(p.name).Sanitize(), ident(name).Sanitize(), p.bound)
		if p.partitioned {
			key, err := partitionKey(ctx, tx, p.oid)
			if err != nil {
				return false, err
			}
			create += " PARTITION BY " + key
		}
		if _, err := tx.Exec(ctx, create); err != nil {
			return false, fmt.Errorf("partition %s: %w", p.name, err)
		}
		if p.partitioned {
			if _, err := twinPartitions(ctx, tx, schema, p.oid, p.name); err != nil {
				return false, err
			}
		}
	}
	return hasDefault, nil
}

// ownSequences gives the twin its own sequence for every default that
// draws from one (a serial column): LIKE copies the default expression, and
// sandbox rows must not advance the live table's sequence. Identity columns
// already get a sequence of their own from LIKE ... INCLUDING IDENTITY.
func ownSequences(ctx context.Context, tx pgx.Tx, schema, name string) error {
	ident := func(n string) pgx.Identifier { return pgx.Identifier{schema, n} }
	rows, err := tx.Query(ctx, `
		SELECT a.attname, format_type(a.atttypid, a.atttypmod)
		  FROM pg_attrdef d
		  JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
		  JOIN pg_depend dep ON dep.classid = 'pg_attrdef'::regclass AND dep.objid = d.oid
		                    AND dep.refclassid = 'pg_class'::regclass
		  JOIN pg_class s ON s.oid = dep.refobjid AND s.relkind = 'S'
		 WHERE d.adrelid = to_regclass($1)`, ident(name).Sanitize())
	if err != nil {
		return err
	}
	type col struct{ name, typ string }
	cols, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (col, error) {
		var c col
		err := r.Scan(&c.name, &c.typ)
		return c, err
	})
	if err != nil {
		return err
	}
	for _, c := range cols {
		seq := ident(trim(name+"_"+c.name, 59) + "_seq")
		typ := "bigint"
		if c.typ == "integer" || c.typ == "smallint" {
			typ = c.typ
		}
		create := fmt.Sprintf("CREATE SEQUENCE %s AS %s OWNED BY %s.%s", seq.Sanitize(), typ, ident(name).Sanitize(), pgx.Identifier{c.name}.Sanitize())
		if _, err := tx.Exec(ctx, create); err != nil {
			return err
		}
		var alter string
		if err := tx.QueryRow(ctx, "SELECT format('ALTER TABLE %s ALTER COLUMN %I SET DEFAULT nextval(%L::regclass)', $1::regclass, $2::text, $3::text)",
			ident(name).Sanitize(), c.name, seq.Sanitize()).Scan(&alter); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, alter); err != nil {
			return err
		}
	}
	return nil
}

// defaultName names the DEFAULT partition the sandbox adds, within
// PostgreSQL's 63-byte identifier limit.
func defaultName(table string) string { return trim(table, 48) + "_hmperf_default" }

func trim(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
