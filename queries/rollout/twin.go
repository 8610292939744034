package rollout

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
)

// createTwin builds the twin of d in NewSchema, in tx: the live columns
// with their defaults (a serial column's default still draws from the
// live sequence, which the swap hands over), NOT NULLs, CHECKs, comments
// and storage; the enums in place of the list CHECKs; the same partitions;
// the primary, unique, exclusion and foreign keys and every index under
// its live name; the partitions' own indexes; the live table's triggers,
// grants, comment and owner.
func createTwin(ctx context.Context, tx pgx.Tx, d *Design) error {
	n := d.names()
	key, err := queryString(ctx, tx, "SELECT pg_get_partkeydef($1)", d.OID)
	if err != nil {
		return err
	}
	create := fmt.Sprintf("CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING COMMENTS INCLUDING STORAGE INCLUDING GENERATED)",
		n.twin().Sanitize(), n.live().Sanitize())
	if key != "" {
		create += " PARTITION BY " + key
	}
	steps := []func() error{
		func() error { return exec(ctx, tx, create) },
		func() error { return applyEnums(ctx, tx, d) },
		func() error { return applyDomains(ctx, tx, d) },
		func() error { return applyValidation(ctx, tx, d) },
		func() error { return twinPartitions(ctx, tx, d) },
		func() error { return copyDefs(ctx, tx, d, constraintsSQL) },
		func() error { return copyDefs(ctx, tx, d, indexesSQL) },
		func() error { return copyDefs(ctx, tx, d, partIndexesSQL) },
		func() error { return copyDefs(ctx, tx, d, commentsSQL) },
		func() error { return copyDefs(ctx, tx, d, triggersSQL) },
		func() error { return copyDefs(ctx, tx, d, grantsSQL) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return fmt.Errorf("rollout: build the twin of %s: %w", n, err)
		}
	}
	return nil
}

// applyEnums creates each enum type beside the twin and turns the column
// into it, dropping the CHECK the enum replaces. The twin is empty, so
// the type change rewrites nothing.
func applyEnums(ctx context.Context, tx pgx.Tx, d *Design) error {
	twin := d.names().twin().Sanitize()
	for _, e := range d.Enums {
		typ := pgx.Identifier{NewSchema, e.Type}.Sanitize()
		labels := make([]string, len(e.Labels))
		for i, l := range e.Labels {
			labels[i] = quoteLiteral(l)
		}
		col := pgx.Identifier{e.Column}.Sanitize()
		def, err := queryString(ctx, tx, `SELECT coalesce((SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d
			JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
			WHERE d.adrelid = $1 AND a.attname = $2), '')`, d.OID, e.Column)
		if err != nil {
			return err
		}
		stmts := []string{
			fmt.Sprintf("CREATE TYPE %s AS ENUM (%s)", typ, strings.Join(labels, ", ")),
			// The service may bind its values as text or varchar: an
			// assignment cast lets its INSERT and UPDATE go on
			// unchanged once the twin serves.
			fmt.Sprintf("CREATE CAST (text AS %s) WITH INOUT AS ASSIGNMENT", typ),
			fmt.Sprintf("CREATE CAST (character varying AS %s) WITH INOUT AS ASSIGNMENT", typ),
			fmt.Sprintf("ALTER TABLE %s DROP CONSTRAINT %s", twin, pgx.Identifier{e.Check}.Sanitize()),
			fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s DROP DEFAULT", twin, col),
			fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s TYPE %s USING %s::text::%s", twin, col, typ, col, typ),
		}
		if def != "" {
			// The live default is a constant of the old type
			// ('not_present'::character varying): its text, cast.
			stmts = append(stmts, fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s SET DEFAULT (%s)::text::%s", twin, col, def, typ))
		}
		stmts = append(stmts, brinOpclass(pgx.Identifier{NewSchema, e.Type}, d.Schema, e.Type)...)
		for _, s := range stmts {
			if err := exec(ctx, tx, s); err != nil {
				return err
			}
		}
	}
	return nil
}

// brinOps are the comparisons a BRIN minmax operator class needs, by
// strategy number.
var brinOps = []struct{ name, op, sym string }{
	{"lt", "<", "#<#"}, {"le", "<=", "#<=#"}, {"eq", "=", "#=#"}, {"ge", ">=", "#>=#"}, {"gt", ">", "#>#"},
}

// brinOpclass gives enum type typ a BRIN minmax operator class, in schema,
// so that the live table's BRIN indexes over the column (and those the
// service's own partition functions create) can be built on the twin:
// PostgreSQL has none for enums. Its operators have names of their own
// (#<# ...), so no comparison the service writes resolves to them; they
// compare with the enum's own order. All of it depends on the type and
// goes with it.
func brinOpclass(typ pgx.Identifier, schema, name string) []string {
	t := typ.Sanitize()
	var out, members []string
	for i, o := range brinOps {
		fn := pgx.Identifier{schema, trim(name, 50) + "_brin_" + o.name}.Sanitize()
		out = append(out,
			fmt.Sprintf("CREATE FUNCTION %s(%s, %s) RETURNS boolean LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE RETURN $1 %s $2", fn, t, t, o.op),
			fmt.Sprintf("CREATE OPERATOR %s.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = %s)", pgx.Identifier{schema}.Sanitize(), o.sym, t, t, fn))
		members = append(members, fmt.Sprintf("OPERATOR %d %s.%s (%s, %s)", i+1, pgx.Identifier{schema}.Sanitize(), o.sym, t, t))
	}
	members = append(members,
		"FUNCTION 1 pg_catalog.brin_minmax_opcinfo(internal)",
		"FUNCTION 2 pg_catalog.brin_minmax_add_value(internal, internal, internal, internal)",
		"FUNCTION 3 pg_catalog.brin_minmax_consistent(internal, internal, internal)",
		"FUNCTION 4 pg_catalog.brin_minmax_union(internal, internal, internal)")
	return append(out, fmt.Sprintf("CREATE OPERATOR CLASS %s DEFAULT FOR TYPE %s USING brin AS %s",
		pgx.Identifier{schema, trim(name, 50) + "_minmax_ops"}.Sanitize(), t, strings.Join(members, ", ")))
}

// twinPartitions gives the twin every partition the live table has, under
// the same names and bounds.
func twinPartitions(ctx context.Context, tx pgx.Tx, d *Design) error {
	for _, p := range d.Parts {
		if err := addPartition(ctx, tx, pgx.Identifier{NewSchema, d.Table}, p); err != nil {
			return err
		}
	}
	return nil
}

func addPartition(ctx context.Context, tx pgx.Tx, parent pgx.Identifier, p Part) error {
	child := pgx.Identifier{parent[0], p.Name}
	return exec(ctx, tx, fmt.Sprintf("CREATE TABLE %s PARTITION OF %s %s", child.Sanitize(), parent.Sanitize(), p.Bound))
}

// The definitions copyDefs replays on the twin. $1 is the live table, $2
// its schema; each returns statements whose "ON schema.table" (or
// "TABLE schema.table") copyDefs points at the twin.
const (
	constraintsSQL = `
		SELECT format('ALTER TABLE %s ADD CONSTRAINT %I %s', $1::regclass, c.conname, pg_get_constraintdef(c.oid))
		  FROM pg_constraint c
		 WHERE c.conrelid = $1 AND c.contype IN ('p', 'u', 'x', 'f') AND c.conparentid = 0
		 ORDER BY c.contype = 'f', c.conname`
	indexesSQL = `
		SELECT replace(pg_get_indexdef(i.indexrelid), ' ON ONLY ', ' ON ')
		  FROM pg_index i
		 WHERE i.indrelid = $1
		   AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = $1)
		 ORDER BY i.indexrelid`
	// partIndexesSQL: indexes of a partition of its own, not attached to
	// an index of the parent (the service's partition function makes
	// them).
	partIndexesSQL = `
		SELECT pg_get_indexdef(i.indexrelid)
		  FROM pg_inherits p
		  JOIN pg_index i ON i.indrelid = p.inhrelid
		 WHERE p.inhparent = $1
		   AND NOT EXISTS (SELECT 1 FROM pg_inherits x WHERE x.inhrelid = i.indexrelid)
		 ORDER BY i.indexrelid`
	commentsSQL = `
		SELECT format('COMMENT ON TABLE %s IS %L', $1::regclass, d.description)
		  FROM pg_description d WHERE d.classoid = 'pg_class'::regclass AND d.objoid = $1 AND d.objsubid = 0
		UNION ALL
		SELECT format('COMMENT ON INDEX %I.%I IS %L', $2::text, c.relname, d.description)
		  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		  JOIN pg_description d ON d.classoid = 'pg_class'::regclass AND d.objoid = i.indexrelid AND d.objsubid = 0
		 WHERE i.indrelid = $1`
	triggersSQL = `
		SELECT pg_get_triggerdef(t.oid)
		  FROM pg_trigger t
		 WHERE t.tgrelid = $1 AND NOT t.tgisinternal AND t.tgparentid = 0 AND t.tgname <> '` + captureTrigger + `'
		 ORDER BY t.tgname`
	grantsSQL = `
		SELECT format('GRANT %s ON TABLE %s TO %s%s', a.privilege_type, c.oid::regclass,
		              CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(r.rolname) END,
		              CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)
		  FROM pg_class c
		 CROSS JOIN LATERAL aclexplode(c.relacl) a
		  LEFT JOIN pg_roles r ON r.oid = a.grantee
		 WHERE (c.oid = $1 OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = $1))
		   AND a.grantee <> c.relowner`
)

// copyDefs reads statements with sql and runs them against the twin: every
// reference to a live relation of the table's schema is pointed at
// NewSchema, where the twin and its partitions have the same names.
func copyDefs(ctx context.Context, tx pgx.Tx, d *Design, sql string) error {
	args := []any{d.OID}
	if strings.Contains(sql, "$2") {
		args = append(args, d.Schema)
	}
	rows, err := tx.Query(ctx, sql, args...)
	if err != nil {
		return err
	}
	defs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, def := range defs {
		if err := exec(ctx, tx, enumCompare(retarget(def, d), d)); err != nil {
			return fmt.Errorf("%s: %w", def, err)
		}
	}
	return nil
}

// retarget points a definition of the live table (or one of its
// partitions or indexes) at its twin in NewSchema.
func retarget(def string, d *Design) string {
	from := pgx.Identifier{d.Schema}.Sanitize() + "."
	plain := d.Schema + "."
	to := pgx.Identifier{NewSchema}.Sanitize() + "."
	for _, rel := range append([]string{d.Table}, partNames(d)...) {
		for _, prefix := range []string{" ON ", " TABLE ", " ON TABLE "} {
			for _, q := range []string{from, plain} {
				for _, name := range []string{pgx.Identifier{rel}.Sanitize(), rel} {
					def = strings.ReplaceAll(def, prefix+q+name+" ", prefix+to+pgx.Identifier{rel}.Sanitize()+" ")
				}
			}
		}
	}
	// COMMENT ON INDEX schema.index names an index, not a table.
	if strings.HasPrefix(def, "COMMENT ON INDEX ") {
		def = strings.Replace(def, "COMMENT ON INDEX "+plain, "COMMENT ON INDEX "+to, 1)
		def = strings.Replace(def, "COMMENT ON INDEX "+from, "COMMENT ON INDEX "+to, 1)
	}
	return def
}

// enumCompare rewrites "(col)::text = 'x'::text" of an enum column into
// "col = 'x'": the cast of an enum to text is not immutable, so an index
// predicate may not use it, while the comparison with the enum's own
// label means the same.
func enumCompare(def string, d *Design) string {
	for _, e := range d.Enums {
		col := regexp.QuoteMeta(pgx.Identifier{e.Column}.Sanitize()) + "|" + regexp.QuoteMeta(e.Column)
		re := regexp.MustCompile(`\((` + col + `)\)::(?:text|character varying) (=|<>) ('(?:[^']|'')*')::(?:text|character varying)`)
		def = re.ReplaceAllString(def, "$1 $2 $3")
	}
	return def
}

func partNames(d *Design) []string {
	out := make([]string, len(d.Parts))
	for i, p := range d.Parts {
		out[i] = p.Name
	}
	return out
}

func exec(ctx context.Context, tx pgx.Tx, sql string, args ...any) error {
	_, err := tx.Exec(ctx, sql, args...)
	return err
}

func queryString(ctx context.Context, tx pgx.Tx, sql string, args ...any) (string, error) {
	var s string
	err := tx.QueryRow(ctx, sql, args...).Scan(&s)
	return s, err
}

// quoteLiteral quotes s as an SQL string constant.
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
