package catalog

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"hmperf/engine"
	"hmperf/queries"
)

// Check is one CHECK constraint of a live table, as the catalogue holds it.
type Check struct {
	Table      string   `json:"table"` // schema-qualified
	Name       string   `json:"name"`
	Definition string   `json:"definition"` // as pg_get_constraintdef prints it
	Columns    []string `json:"columns"`    // the columns it reads
}

// String is the check in one line: table, name, definition.
func (c Check) String() string { return c.Table + " " + c.Name + " " + c.Definition }

// ReadChecks reads the CHECK constraints of t in name order. Constraints
// marked NOT VALID are read too: PostgreSQL checks them on every new row.
// Where db can open a transaction (a pool, a connection, a transaction) the
// definitions are printed with TimeZone UTC and the default date and
// interval styles, as knownRules holds them: a timestamptz or interval
// constant prints in the session's settings.
func ReadChecks(ctx context.Context, db queries.DBTX, t *Table) ([]Check, error) {
	if b, ok := db.(interface {
		Begin(context.Context) (pgx.Tx, error)
	}); ok {
		tx, err := b.Begin(ctx)
		if err != nil {
			return nil, fmt.Errorf("read the CHECK constraints of %s: %w", t, err)
		}
		// Rolled back: the setting goes with it, also when tx is a
		// savepoint in the caller's transaction.
		defer queries.Rollback(tx)
		if _, err := tx.Exec(ctx, `SELECT set_config('TimeZone', 'UTC', true), set_config('DateStyle', 'ISO, MDY', true),
			set_config('IntervalStyle', 'postgres', true)`); err != nil {
			return nil, fmt.Errorf("read the CHECK constraints of %s: %w", t, err)
		}
		db = tx
	}
	rows, err := db.Query(ctx, `
		SELECT c.conname, pg_get_constraintdef(c.oid),
		       coalesce((SELECT array_agg(a.attname ORDER BY a.attnum) FROM pg_attribute a
		                  WHERE a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)), '{}')
		  FROM pg_constraint c
		 WHERE c.conrelid = $1 AND c.contype = 'c'
		 ORDER BY c.conname`, t.OID)
	if err != nil {
		return nil, fmt.Errorf("read the CHECK constraints of %s: %w", t, err)
	}
	checks, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Check, error) {
		c := Check{Table: t.String()}
		return c, r.Scan(&c.Name, &c.Definition, &c.Columns)
	})
	if err != nil {
		return nil, fmt.Errorf("read the CHECK constraints of %s: %w", t, err)
	}
	return checks, nil
}

// Adapt fits rules to the CHECKs of kind k's live table (mapped by m): a
// range or a list of values on a column hmperf writes narrows the engine's
// rule for its field (Rules.Narrow, NarrowEnum), so the validator refuses
// what the table would; a cross-field or time CHECK is known when the
// engine has the same rule (knownRules). It returns the rules and the
// CHECKs the validator does not know, whose refusals can only come from
// PostgreSQL, as constraint failures. A CHECK reading only columns hmperf
// does not write is left out: its rows hold NULL or the column's default
// there, which the service's own inserts meet too.
func Adapt(rules *engine.Rules, k engine.Kind, m *Mapping, checks []Check) (*engine.Rules, []Check) {
	var unknown []Check
	for _, c := range checks {
		if !m.writesAny(c.Columns) {
			continue
		}
		adapted, ok := adaptOne(rules, k, m, c)
		if !ok {
			unknown = append(unknown, c)
			continue
		}
		rules = adapted
	}
	return rules, unknown
}

// adaptOne fits rules to one CHECK, or reports that it cannot.
func adaptOne(rules *engine.Rules, k engine.Kind, m *Mapping, c Check) (*engine.Rules, bool) {
	s := parseCheck(c.Definition)
	field, mapped := m.Field(s.column)
	switch {
	case s.kind == shapeRange && mapped:
		out, _, err := rules.Narrow(k, field, s.bound)
		return out, err == nil
	case s.kind == shapeEnum && mapped:
		out, _, err := rules.NarrowEnum(k, field, s.values)
		return out, err == nil
	}
	return rules, knows(rules, k, m, s)
}

// knows reports whether the engine has kind k's rule for a CHECK that is no
// plain range or list: the same comparison of two fields, or one of the
// service's rules the engine carries (knownRules).
func knows(rules *engine.Rules, k engine.Kind, m *Mapping, s shape) bool {
	desc := ""
	switch s.kind {
	case shapeCompare:
		left, ok1 := m.Field(s.column)
		right, ok2 := m.Field(s.other)
		if !ok1 || !ok2 {
			return false
		}
		desc = comparison(left, s.op, right)
	default:
		desc = knownRules[k][m.normalise(s.text)]
	}
	if desc == "" {
		return false
	}
	if desc == builtArray {
		return true
	}
	for _, r := range rules.For(k) {
		if r.Desc == desc || r.Kind == engine.RuleTime && desc == "time:"+r.Field || r.Kind == engine.RuleRequired && desc == "required:"+r.Field {
			return true
		}
	}
	return false
}

// comparison is "left op right" as the engine's rules describe a
// comparison of two fields, the greater one first: "a < b" is "b > a".
func comparison(left, op, right string) string {
	switch op {
	case "<":
		left, op, right = right, ">", left
	case "<=":
		left, op, right = right, ">=", left
	}
	return left + " " + op + " " + right
}

// builtArray marks a CHECK that a column holds a JSON array: the engine
// writes such columns from Go string slices, which pgx encodes as a JSON
// array or NULL, so no record can break it.
const builtArray = "built:array"

// knownRules maps the CHECKs of the service's and hmperf's tables that are
// no plain range, list or comparison (normalised by Mapping.normalise:
// engine field names, no spaces, parentheses or casts) to the engine rule
// that enforces them: its description, "time:<field>" for its time rule or
// "required:<field>" for its required rule.
var knownRules = map[engine.Kind]map[string]string{
	engine.KindSleep: {
		"duration_minutes>=coalescedeep_sleep_minutes,0+coalescerem_sleep_minutes,0+coalescelight_sleep_minutes,0+coalesceawake_minutes,0": engine.SleepDurationConsistency,
	},
	engine.KindWorkout: {
		"workout_type<>''":    "required:workout_type",
		"ended_at>started_at": "ended_at > started_at",
		// Both the order and the length: the length rule's description
		// carries its configured maximum, so a VALIDATION_* setting above
		// the CHECK's 24 hours leaves the CHECK unknown, as it then is.
		"ended_at>started_atandended_at-started_at<='24:00:00'": "duration <= 24 h",
	},
	engine.KindSymptom: {
		"triggersisnullorjsonb_typeoftriggers='array'":                   builtArray,
		"treatmentsisnullorjsonb_typeoftreatments='array'":               builtArray,
		"onset_atisnulloronset_at<=now":                                  "time:onset_at",
		"recorded_at>='1900-01-0100:00:00+00'andrecorded_at<=now+'1day'": "time:recorded_at",
	},
}

// RangeOf is the column and the bounds a CHECK sets when it is a range on
// one column; for boundary probes.
func RangeOf(c Check) (string, engine.Bound, bool) {
	s := parseCheck(c.Definition)
	return s.column, s.bound, s.kind == shapeRange
}

// ValuesOf is the column and the values a CHECK allows when it is a list
// of values of one column; for boundary probes.
func ValuesOf(c Check) (string, []string, bool) {
	s := parseCheck(c.Definition)
	return s.column, s.values, s.kind == shapeEnum
}
