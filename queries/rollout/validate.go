package rollout

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"hmperf/queries/catalog"
)

// Domain is one numeric column whose live CHECK is a range, which the twin
// types with a domain over the column's live type carrying that range (the
// nutrition_metrics design).
type Domain struct {
	Column string `json:"column"`
	Type   string `json:"type"` // the domain's name, unqualified
	Base   string `json:"base"` // the column's live type
	Min    string `json:"min"`
	Max    string `json:"max"`
	Check  string `json:"replaces_check"`
}

// Validation is one IMMUTABLE function built from live CHECK expressions,
// called by one CHECK of the twin in their place: the expressions are its
// body, the columns they read its parameters.
type Validation struct {
	Function string   `json:"function"` // unqualified; also the twin's CHECK's name
	Columns  []string `json:"columns"`
	Types    []string `json:"types"`
	Exprs    []string `json:"expressions"`
	Checks   []string `json:"replaces_checks"`
}

// optimization is what a table's report design changes: symptoms' list
// CHECKs become enums; nutrition_metrics' range CHECKs become domains and
// the rest one validation function; activity_metrics_v2's CHECKs become
// one validation function, all but a list of values (its
// aggregation_period CHECK stays, as hmperf's own optimized design keeps
// it: the report replaced the range CHECKs).
type optimization struct{ enums, domains, validateAllButLists, validateRest bool }

func optimizationOf(table string) optimization {
	switch table {
	case "symptoms":
		return optimization{enums: true}
	case "nutrition_metrics":
		return optimization{domains: true, validateRest: true}
	case "activity_metrics_v2":
		return optimization{validateAllButLists: true}
	}
	return optimization{}
}

// number is a numeric constant as pg_get_constraintdef prints it: 0,
// (0)::numeric, '0.5'::numeric, ('-1'::integer)::numeric(8,2).
const number = `\(?'?(-?[0-9]+(?:\.[0-9]+)?)'?` + cast + `\)?` + cast

// cast is an optional cast to a named type, possibly with a type modifier.
const cast = `(?:::[a-z ]+(?:\(\d+(?:,\d+)?\))?)?`

// rangeCheck is "col >= a AND col <= b" (BETWEEN prints so too), possibly
// after "col IS NULL OR", which a CHECK does not need: NULL passes it.
var rangeCheck = regexp.MustCompile(`^\(*(?:"?([^"()]+)"? IS NULL\) OR \(+)?"?([^"()]+)"? >= ` + number + `\) AND \("?([^"()]+)"? <= ` + number + `\)+$`)

// ParseRange returns the bounds a CHECK on column allows, when the CHECK is
// nothing but an inclusive range of column (NULL allowed, as in any CHECK).
func ParseRange(def, column string) (lo, hi string, ok bool) {
	expr := strings.TrimPrefix(strings.TrimSuffix(def, " NOT VALID"), "CHECK ")
	m := rangeCheck.FindStringSubmatch(expr)
	if m == nil || m[2] != column || m[4] != column || (m[1] != "" && m[1] != column) {
		return "", "", false
	}
	if strings.Count(expr, "(") != strings.Count(expr, ")") {
		return "", "", false
	}
	return m[3], m[5], true
}

func isNumeric(typ string) bool {
	return typ == "integer" || typ == "bigint" || typ == "smallint" || typ == "real" || typ == "double precision" ||
		strings.HasPrefix(typ, "numeric")
}

// valid reports whether c is validated: a NOT VALID CHECK stays on the
// twin as it is (old rows may break it; see Design.NotValid).
func valid(c catalog.Check) bool { return !strings.HasSuffix(c.Definition, " NOT VALID") }

// rangeOf returns the range design of CHECK c, if it is a valid range CHECK
// on one numeric column.
func rangeOf(t *catalog.Table, c catalog.Check) (catalog.Column, string, string, bool) {
	if len(c.Columns) != 1 || !valid(c) {
		return catalog.Column{}, "", "", false
	}
	col, ok := t.Column(c.Columns[0])
	if !ok || !isNumeric(col.Type) {
		return catalog.Column{}, "", "", false
	}
	lo, hi, ok := ParseRange(c.Definition, col.Name)
	return col, lo, hi, ok
}

// domainsOf finds the numeric columns whose valid CHECK is a range.
func domainsOf(t *catalog.Table, checks []catalog.Check) []Domain {
	var out []Domain
	for _, c := range checks {
		col, lo, hi, ok := rangeOf(t, c)
		if !ok {
			continue
		}
		out = append(out, Domain{Column: col.Name, Type: trim(t.Name+"_"+col.Name, 63), Base: col.Type, Min: lo, Max: hi, Check: c.Name})
	}
	return out
}

// validationOf builds the one validation function from the valid CHECKs
// take selects, or nil when it selects none.
func validationOf(t *catalog.Table, checks []catalog.Check, take func(catalog.Check) bool) *Validation {
	v := &Validation{Function: trim("validate_"+t.Name, 63)}
	for _, c := range checks {
		if !valid(c) || !take(c) {
			continue
		}
		v.Checks = append(v.Checks, c.Name)
		v.Exprs = append(v.Exprs, strings.TrimPrefix(c.Definition, "CHECK "))
		for _, name := range c.Columns {
			if !slices.Contains(v.Columns, name) {
				v.Columns = append(v.Columns, name)
			}
		}
	}
	if len(v.Checks) == 0 {
		return nil
	}
	// Parameters in the table's column order: the call reads like the row.
	var cols, types []string
	for _, c := range t.Columns {
		if slices.Contains(v.Columns, c.Name) {
			cols, types = append(cols, c.Name), append(types, c.Type)
		}
	}
	v.Columns, v.Types = cols, types
	return v
}

// replaced lists the live CHECKs the design's enums, domains and
// validation function replace: the twin does not copy them.
func (d *Design) replaced() []string {
	var out []string
	for _, e := range d.Enums {
		out = append(out, e.Check)
	}
	for _, m := range d.Domains {
		out = append(out, m.Check)
	}
	if d.Validation != nil {
		out = append(out, d.Validation.Checks...)
	}
	return out
}

// domainOf returns the domain design of column, if it has one.
func (d *Design) domainOf(column string) (Domain, bool) {
	for _, m := range d.Domains {
		if m.Column == column {
			return m, true
		}
	}
	return Domain{}, false
}

// applyDomains creates each domain beside the twin's enums and types the
// column with it, dropping the CHECK it replaces. The twin is empty, so
// the type change rewrites nothing; the live type is the domain's base,
// so the service's values and the column's default need no cast.
func applyDomains(ctx context.Context, tx pgx.Tx, d *Design) error {
	twin := d.names().twin().Sanitize()
	for _, m := range d.Domains {
		typ := pgx.Identifier{NewSchema, m.Type}.Sanitize()
		col := pgx.Identifier{m.Column}.Sanitize()
		stmts := []string{
			fmt.Sprintf("CREATE DOMAIN %s AS %s CONSTRAINT %s CHECK (VALUE >= %s AND VALUE <= %s)",
				typ, m.Base, pgx.Identifier{trim(m.Type, 57) + "_check"}.Sanitize(), quoteLiteral(m.Min)+"::"+m.Base, quoteLiteral(m.Max)+"::"+m.Base),
			fmt.Sprintf("ALTER TABLE %s DROP CONSTRAINT %s", twin, pgx.Identifier{m.Check}.Sanitize()),
			fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s TYPE %s", twin, col, typ),
		}
		if err := execAll(ctx, tx, stmts); err != nil {
			return err
		}
	}
	return nil
}

// applyValidation creates the validation function beside the twin and
// puts one CHECK calling it in place of the CHECKs it replaces. A CHECK
// passes a NULL result, so each expression is coalesced to true: the
// function refuses exactly the rows one of the CHECKs refused.
func applyValidation(ctx context.Context, tx pgx.Tx, d *Design) error {
	v := d.Validation
	if v == nil {
		return nil
	}
	twin := d.names().twin().Sanitize()
	params, args := make([]string, len(v.Columns)), make([]string, len(v.Columns))
	for i, c := range v.Columns {
		params[i] = pgx.Identifier{c}.Sanitize() + " " + v.Types[i]
		args[i] = pgx.Identifier{c}.Sanitize()
	}
	body := make([]string, len(v.Exprs))
	for i, e := range v.Exprs {
		body[i] = "coalesce(" + e + ", true)"
	}
	fn := pgx.Identifier{NewSchema, v.Function}.Sanitize()
	stmts := []string{fmt.Sprintf("CREATE FUNCTION %s(%s) RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN %s",
		fn, strings.Join(params, ", "), strings.Join(body, " AND "))}
	for _, c := range v.Checks {
		stmts = append(stmts, fmt.Sprintf("ALTER TABLE %s DROP CONSTRAINT %s", twin, pgx.Identifier{c}.Sanitize()))
	}
	stmts = append(stmts, fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s CHECK (%s(%s))", twin, pgx.Identifier{v.Function}.Sanitize(), fn, strings.Join(args, ", ")))
	return execAll(ctx, tx, stmts)
}

// moveValidation moves the table's validation function, if from holds one,
// to schema to, with the types the exchange moves.
func moveValidation(ctx context.Context, tx pgx.Tx, table, from, to string) error {
	fn, err := validationIn(ctx, tx, table, from)
	if err != nil || fn == "" {
		return err
	}
	return exec(ctx, tx, fmt.Sprintf("ALTER FUNCTION %s SET SCHEMA %s", fn, pgx.Identifier{to}.Sanitize()))
}

// validationIn returns the table's validation function in schema, with
// its argument types, or "" when there is none.
func validationIn(ctx context.Context, tx pgx.Tx, table, schema string) (string, error) {
	return queryString(ctx, tx, `SELECT coalesce((SELECT p.oid::regprocedure::text FROM pg_proc p
		WHERE p.proname = $1 AND p.pronamespace = to_regnamespace(quote_ident($2))), '')`, trim("validate_"+table, 63), schema)
}
