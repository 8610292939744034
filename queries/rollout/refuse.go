package rollout

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"hmperf/queries"
	"hmperf/queries/catalog"
)

// Refusal is one rule of the new layout that live rows break.
type Refusal struct {
	Rule     string   `json:"rule"`
	Rows     int64    `json:"rows"`
	Examples []string `json:"examples"`
}

// refusedWhere is the condition that a live row (alias l) breaks enum e.
func refusedWhere(e Enum) string {
	labels := make([]string, len(e.Labels))
	for i, l := range e.Labels {
		labels[i] = quoteLiteral(l)
	}
	return fmt.Sprintf("(l.%s IS NOT NULL AND l.%s::text <> ALL (ARRAY[%s]))",
		pgx.Identifier{e.Column}.Sanitize(), pgx.Identifier{e.Column}.Sanitize(), strings.Join(labels, ", "))
}

// breaksWhere is the condition that a live row (alias l) breaks CHECK c,
// which a NULL result passes.
func breaksWhere(c catalog.Check) string {
	expr := strings.TrimSuffix(strings.TrimPrefix(c.Definition, "CHECK "), " NOT VALID")
	return "NOT coalesce(" + expr + ", true)"
}

// anyRefused is the condition that a live row breaks some rule of d.
func anyRefused(d *Design) string {
	var conds []string
	for _, e := range d.Enums {
		conds = append(conds, refusedWhere(e))
	}
	for _, c := range d.NotValid {
		conds = append(conds, "("+breaksWhere(c)+")")
	}
	if len(conds) == 0 {
		return "false"
	}
	return strings.Join(conds, " OR ")
}

// maxExamples is how many refused rows a refusal shows.
const maxExamples = 5

// Refused counts, by a read-only scan, the live rows the new layout would
// refuse, per rule, with a few examples (the key and the value).
func Refused(ctx context.Context, db queries.DBTX, d *Design) ([]Refusal, error) {
	var out []Refusal
	keyText := keyTextOf(d.Key, "l")
	for _, e := range d.Enums {
		r := Refusal{Rule: fmt.Sprintf("column %s must be one of the %d values of enum %s (the live CHECK %s's list)", e.Column, len(e.Labels), e.Type, e.Check)}
		where := refusedWhere(e)
		sql := fmt.Sprintf(`SELECT count(*), coalesce((SELECT array_agg(x) FROM (SELECT %s || ': ' || %s AS x FROM %s l WHERE %s LIMIT %d) s), '{}')
			FROM %s l WHERE %s`, keyText, "quote_literal(l."+pgx.Identifier{e.Column}.Sanitize()+")", d.names().live().Sanitize(), where, maxExamples,
			d.names().live().Sanitize(), where)
		if err := db.QueryRow(ctx, sql).Scan(&r.Rows, &r.Examples); err != nil {
			return nil, fmt.Errorf("rollout: count the rows the new layout refuses: %w", err)
		}
		if r.Rows > 0 {
			out = append(out, r)
		}
	}
	for _, c := range d.NotValid {
		r := Refusal{Rule: fmt.Sprintf("the twin keeps CHECK %s %s, which the live table does not apply to its older rows", c.Name, c.Definition)}
		sql := fmt.Sprintf(`SELECT count(*), coalesce((SELECT array_agg(x) FROM (SELECT %s AS x FROM %s l WHERE %s LIMIT %d) s), '{}')
			FROM %s l WHERE %s`, keyText, d.names().live().Sanitize(), breaksWhere(c), maxExamples, d.names().live().Sanitize(), breaksWhere(c))
		if err := db.QueryRow(ctx, sql).Scan(&r.Rows, &r.Examples); err != nil {
			return nil, fmt.Errorf("rollout: count the rows CHECK %s refuses: %w", c.Name, err)
		}
		if r.Rows > 0 {
			out = append(out, r)
		}
	}
	return out, nil
}

// keyTextOf renders the key of row alias t as "(a, b, c)" text.
func keyTextOf(key []string, t string) string {
	parts := make([]string, len(key))
	for i, k := range key {
		parts[i] = t + "." + pgx.Identifier{k}.Sanitize() + "::text"
	}
	return "'(' || concat_ws(', ', " + strings.Join(parts, ", ") + ") || ')'"
}

// quarantine moves the refused rows of the live table into a table of
// hmperf's (same columns, no constraints), in tx, and returns how many.
func quarantine(ctx context.Context, tx pgx.Tx, d *Design) (int64, error) {
	n := d.names()
	if err := exec(ctx, tx, fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (LIKE %s)", n.quarantine().Sanitize(), n.live().Sanitize())); err != nil {
		return 0, fmt.Errorf("rollout: create the quarantine %s: %w", n.quarantine().Sanitize(), err)
	}
	tag, err := tx.Exec(ctx, fmt.Sprintf("WITH moved AS (DELETE FROM %s l WHERE %s RETURNING l.*) INSERT INTO %s SELECT * FROM moved",
		n.live().Sanitize(), anyRefused(d), n.quarantine().Sanitize()))
	if err != nil {
		return 0, fmt.Errorf("rollout: move the refused rows to %s: %w", n.quarantine().Sanitize(), err)
	}
	return tag.RowsAffected(), nil
}

// putBack returns the quarantined rows to table (the original layout, back
// in place), in tx, and drops the quarantine. A CHECK marked NOT VALID is
// what let those rows in, and it refuses them as new rows: it is dropped
// for the insert and added back, NOT VALID, as it was.
func putBack(ctx context.Context, tx pgx.Tx, n names, table pgx.Identifier) (int64, error) {
	q := n.quarantine().Sanitize()
	var exists bool
	if err := tx.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", q).Scan(&exists); err != nil || !exists {
		return 0, err
	}
	rows, err := tx.Query(ctx, `SELECT c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c
		WHERE c.conrelid = $1::regclass AND c.contype = 'c' AND NOT c.convalidated ORDER BY c.conname`, table.Sanitize())
	if err != nil {
		return 0, err
	}
	type check struct{ name, def string }
	checks, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (check, error) {
		var c check
		return c, r.Scan(&c.name, &c.def)
	})
	if err != nil {
		return 0, err
	}
	for _, c := range checks {
		if err := exec(ctx, tx, fmt.Sprintf("ALTER TABLE %s DROP CONSTRAINT %s", table.Sanitize(), pgx.Identifier{c.name}.Sanitize())); err != nil {
			return 0, err
		}
	}
	tag, err := tx.Exec(ctx, fmt.Sprintf("INSERT INTO %s SELECT * FROM %s", table.Sanitize(), q))
	if err != nil {
		return 0, fmt.Errorf("rollout: put the quarantined rows back: %w", err)
	}
	// The rows are the service's, but this insert is hmperf's: the write
	// sampler must not count them as the service writing them again.
	if err := queries.RecordOwnWrites(ctx, tx, []queries.OwnWrite{{Table: table.Sanitize(), Committed: tag.RowsAffected()}}); err != nil {
		return 0, err
	}
	for _, c := range checks {
		def := strings.TrimSuffix(c.def, " NOT VALID")
		if err := exec(ctx, tx, fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s %s NOT VALID", table.Sanitize(), pgx.Identifier{c.name}.Sanitize(), def)); err != nil {
			return 0, err
		}
	}
	return tag.RowsAffected(), exec(ctx, tx, "DROP TABLE "+q)
}
