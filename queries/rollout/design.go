package rollout

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"hmperf/queries"
	"hmperf/queries/catalog"
)

// Design is the twin's layout as derived from the live table: the live
// table's own columns, keys, indexes, partitions, triggers, grants and
// comments (copied by twin.go), with the optimization applied.
type Design struct {
	Schema  string           `json:"schema"`
	Table   string           `json:"table"`
	OID     uint32           `json:"-"`
	Columns []catalog.Column `json:"columns"`
	// Key is the primary key: the backfill's keyset order and the key
	// the change log is applied by.
	Key   []string `json:"key"`
	Enums []Enum   `json:"enums"`
	// Domains and Validation are the other report designs: range CHECKs
	// as domains, CHECKs as one validation function.
	Domains    []Domain    `json:"domains"`
	Validation *Validation `json:"validation,omitempty"`
	// NotValid are the live CHECKs marked NOT VALID that the twin keeps:
	// the twin checks every row the backfill writes, so old rows that
	// break one are refused rows too.
	NotValid []catalog.Check `json:"not_valid_checks"`
	Parts    []Part          `json:"partitions"`
	// Blockers are what the rollout cannot carry over; any of them
	// refuses start.
	Blockers []string `json:"blockers"`
}

// Enum is one text column whose CHECK lists its values, which the twin
// stores as an enum of exactly those values, in the CHECK's order.
type Enum struct {
	Column string   `json:"column"`
	Type   string   `json:"type"` // the enum type's name, unqualified
	Labels []string `json:"labels"`
	Check  string   `json:"replaces_check"`
}

// Part is one partition of the live table.
type Part struct {
	OID   uint32 `json:"-"`
	Name  string `json:"name"`
	Bound string `json:"bound"`
}

func (d *Design) names() names { return names{schema: d.Schema, table: d.Table} }

// enumOf returns the enum design of column, if it has one.
func (d *Design) enumOf(column string) (Enum, bool) {
	for _, e := range d.Enums {
		if e.Column == column {
			return e, true
		}
	}
	return Enum{}, false
}

// ReadDesign derives the twin of table from the live catalogue and lists
// what blocks its rollout.
func ReadDesign(ctx context.Context, db queries.DBTX, table string) (*Design, error) {
	if err := checkTable(table); err != nil {
		return nil, err
	}
	live, err := catalog.Read(ctx, db, pgx.Identifier{table})
	if err != nil {
		return nil, fmt.Errorf("rollout: %w", err)
	}
	d := &Design{Schema: live.Schema, Table: live.Name, OID: live.OID, Columns: live.Columns}
	if d.Key, err = primaryKey(ctx, db, live.OID); err != nil {
		return nil, err
	}
	if len(d.Key) == 0 {
		d.Blockers = append(d.Blockers, "the table has no primary key: the backfill's order and the log's replay need one")
	}
	checks, err := catalog.ReadChecks(ctx, db, live)
	if err != nil {
		return nil, fmt.Errorf("rollout: %w", err)
	}
	d.optimize(live, checks)
	d.NotValid = notValid(checks, d.replaced())
	if len(d.Enums) == 0 && len(d.Domains) == 0 && d.Validation == nil {
		d.Blockers = append(d.Blockers, fmt.Sprintf("no optimization rollout can build for %s: none of its CHECKs is what its design replaces (a list of values, a range)", table))
	}
	if d.Parts, err = partitions(ctx, db, live); err != nil {
		return nil, err
	}
	more, err := blockers(ctx, db, d)
	if err != nil {
		return nil, err
	}
	d.Blockers = append(d.Blockers, more...)
	return d, nil
}

func primaryKey(ctx context.Context, db queries.DBTX, oid uint32) ([]string, error) {
	var key []string
	err := db.QueryRow(ctx, `
		SELECT coalesce(array_agg(a.attname ORDER BY k.ord), '{}')
		  FROM pg_constraint c
		 CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY k(n, ord)
		  JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n
		 WHERE c.conrelid = $1 AND c.contype = 'p'`, oid).Scan(&key)
	if err != nil {
		return nil, fmt.Errorf("rollout: read the primary key: %w", err)
	}
	return key, nil
}

// enumsOf finds the text columns whose CHECK is a list of values.
func enumsOf(t *catalog.Table, checks []catalog.Check) []Enum {
	var out []Enum
	for _, c := range checks {
		if len(c.Columns) != 1 {
			continue
		}
		col, ok := t.Column(c.Columns[0])
		if !ok || !isText(col.Type) {
			continue
		}
		labels, ok := ParseList(c.Definition, col.Name)
		if !ok {
			continue
		}
		out = append(out, Enum{Column: col.Name, Type: trim(t.Name+"_"+col.Name, 63), Labels: labels, Check: c.Name})
	}
	return out
}

// optimize applies the table's report design to d.
func (d *Design) optimize(live *catalog.Table, checks []catalog.Check) {
	o := optimizationOf(d.Table)
	if o.enums {
		d.Enums = enumsOf(live, checks)
	}
	if o.domains {
		d.Domains = domainsOf(live, checks)
	}
	switch {
	case o.validateAllButLists:
		d.Validation = validationOf(live, checks, func(c catalog.Check) bool {
			return len(c.Columns) != 1 || len(enumsOf(live, []catalog.Check{c})) == 0
		})
	case o.validateRest:
		d.Validation = validationOf(live, checks, func(c catalog.Check) bool { return !slices.Contains(d.replaced(), c.Name) })
	}
}

// notValid lists the NOT VALID CHECKs the twin keeps (those the design
// replaces are gone).
func notValid(checks []catalog.Check, replaced []string) []catalog.Check {
	var out []catalog.Check
	for _, c := range checks {
		if strings.HasSuffix(c.Definition, " NOT VALID") && !slices.Contains(replaced, c.Name) {
			out = append(out, c)
		}
	}
	return out
}

func isText(typ string) bool {
	return typ == "text" || strings.HasPrefix(typ, "character varying") || strings.HasPrefix(typ, "character(")
}

var (
	// listCheck is a CHECK as pg_get_constraintdef prints "col IN (...)"
	// on a text column: the column, possibly cast, = ANY of an array.
	listCheck = regexp.MustCompile(`^CHECK \(+"?([^"()]+)"?\)?(?:::[a-z ]+)? = ANY \(+ARRAY\[(.*?)\]\)?(?:::[a-z ]+\[\])?\)+$`)
	// listItem is one string constant of the array, possibly cast, and
	// the cast possibly cast again (a restored dump prints
	// ('fever'::character varying)::text).
	listItem = regexp.MustCompile(`^\(?'((?:[^']|'')*)'(?:::[a-z ]+(?:\(\d+\))?)?(?:\)::[a-z ]+)?(?:, |$)`)
)

// ParseList returns the values a CHECK on column allows, when the CHECK is
// nothing but a list of string constants.
func ParseList(def, column string) ([]string, bool) {
	m := listCheck.FindStringSubmatch(strings.TrimSuffix(def, " NOT VALID"))
	if m == nil || m[1] != column {
		return nil, false
	}
	var out []string
	for rest := m[2]; rest != ""; {
		item := listItem.FindStringSubmatch(rest)
		if item == nil {
			return nil, false
		}
		out = append(out, strings.ReplaceAll(item[1], "''", "'"))
		rest = rest[len(item[0]):]
	}
	return out, len(out) > 0
}

// partitions lists the direct partitions of the live table.
func partitions(ctx context.Context, db queries.DBTX, t *catalog.Table) ([]Part, error) {
	rows, err := db.Query(ctx, `
		SELECT c.oid, c.relname, pg_get_expr(c.relpartbound, c.oid)
		  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		 WHERE i.inhparent = $1 ORDER BY c.relname`, t.OID)
	if err != nil {
		return nil, fmt.Errorf("rollout: read the partitions of %s: %w", t, err)
	}
	parts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Part, error) {
		var p Part
		return p, r.Scan(&p.OID, &p.Name, &p.Bound)
	})
	if err != nil {
		return nil, fmt.Errorf("rollout: read the partitions of %s: %w", t, err)
	}
	return parts, nil
}

// blockersSQL lists what the twin cannot carry over, one line each.
const blockersSQL = `
WITH rels AS (
    SELECT $1::oid AS oid
    UNION ALL SELECT i.inhrelid FROM pg_inherits i WHERE i.inhparent = $1
)
SELECT format('column %I is an identity column: its sequence belongs to the table and cannot move to the twin', a.attname)
  FROM pg_attribute a WHERE a.attrelid = $1 AND a.attidentity <> '' AND NOT a.attisdropped
UNION ALL
SELECT format('foreign key %I of %s references the table: rollout does not move foreign keys that point at it', c.conname, c.conrelid::regclass)
  FROM pg_constraint c WHERE c.contype = 'f' AND c.confrelid IN (SELECT oid FROM rels) AND c.conparentid = 0
UNION ALL
SELECT format('materialized view %s reads the table', v.ev_class::regclass)
  FROM pg_depend d JOIN pg_rewrite v ON v.oid = d.objid JOIN pg_class m ON m.oid = v.ev_class
 WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid IN (SELECT oid FROM rels) AND m.relkind = 'm'
UNION ALL
SELECT format('row-level security policy %I is on the table', p.polname)
  FROM pg_policy p WHERE p.polrelid IN (SELECT oid FROM rels)
UNION ALL
SELECT format('partition %s is itself partitioned', c.oid::regclass)
  FROM pg_class c WHERE c.oid IN (SELECT oid FROM rels) AND c.oid <> $1 AND c.relkind = 'p'
UNION ALL
SELECT format('partition %s is in schema %I, not the table''s', c.oid::regclass, n.nspname)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.oid IN (SELECT oid FROM rels) AND n.nspname <> $2
UNION ALL
SELECT format('the table is in publication %I', p.pubname)
  FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid WHERE pr.prrelid IN (SELECT oid FROM rels)
UNION ALL
SELECT format('type %s already exists: the enum or domain of column %I would take its name', t.oid::regtype, e.col)
  FROM unnest($3::text[], $4::text[]) AS e(typ, col)
  JOIN pg_type t ON t.typname = e.typ AND t.typnamespace = $2::regnamespace
UNION ALL
SELECT format('function %s already exists: the validation function would take its name', p.oid::regprocedure)
  FROM pg_proc p WHERE p.proname = $5 AND p.pronamespace = $2::regnamespace`

func blockers(ctx context.Context, db queries.DBTX, d *Design) ([]string, error) {
	var types, cols []string
	for _, e := range d.Enums {
		types, cols = append(types, e.Type), append(cols, e.Column)
	}
	for _, m := range d.Domains {
		types, cols = append(types, m.Type), append(cols, m.Column)
	}
	rows, err := db.Query(ctx, blockersSQL, d.OID, d.Schema, types, cols, trim("validate_"+d.Table, 63))
	if err != nil {
		return nil, fmt.Errorf("rollout: read what the twin cannot carry over: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("rollout: read what the twin cannot carry over: %w", err)
	}
	return out, nil
}
