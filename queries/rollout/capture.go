package rollout

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"hmperf/queries/catalog"
)

// The change log is one table of hmperf's per rollout: every insert,
// update and delete on the table being written adds a row holding the
// old and new row as jsonb, in the order its id says. Applying the log
// deletes the entries it applies in the same transaction, so an entry
// whose transaction commits late (it took its id early) is applied by a
// later pass instead of being skipped by a high-water mark.

// createLog makes the log table and the trigger function of direction,
// in tx. Both are hmperf's; the function runs as its owner (SECURITY
// DEFINER), so the service's role needs no privilege on hmperf's schema.
func createLog(ctx context.Context, tx pgx.Tx, n names) error {
	return exec(ctx, tx, fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
		id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		op  "char" NOT NULL,
		old jsonb,
		new jsonb)`, n.log().Sanitize()))
}

// captureFuncSQL is the trigger function; %[1]s is the function, %[2]s the log.
const captureFuncSQL = `CREATE OR REPLACE FUNCTION %[1]s() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $fn$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO %[2]s (op, new) VALUES ('I', to_jsonb(NEW));
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO %[2]s (op, old, new) VALUES ('U', to_jsonb(OLD), to_jsonb(NEW));
    ELSE
        INSERT INTO %[2]s (op, old) VALUES ('D', to_jsonb(OLD));
    END IF;
    RETURN NULL;
END
$fn$`

// installCapture adds the capture trigger of direction on table, in tx.
// On a partitioned table the trigger is cloned onto every partition,
// present and future.
func installCapture(ctx context.Context, tx pgx.Tx, n names, direction string, table pgx.Identifier) error {
	fn := n.captureFunc(direction).Sanitize()
	if err := exec(ctx, tx, fmt.Sprintf(captureFuncSQL, fn, n.log().Sanitize())); err != nil {
		return err
	}
	return exec(ctx, tx, fmt.Sprintf("CREATE TRIGGER %s AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW EXECUTE FUNCTION %s()",
		captureTrigger, table.Sanitize(), fn))
}

// dropCapture removes the capture trigger of direction from table and its
// function, in tx.
func dropCapture(ctx context.Context, tx pgx.Tx, n names, direction string, table pgx.Identifier) error {
	if err := exec(ctx, tx, fmt.Sprintf("DROP TRIGGER IF EXISTS %s ON %s", captureTrigger, table.Sanitize())); err != nil {
		return err
	}
	return exec(ctx, tx, fmt.Sprintf("DROP FUNCTION IF EXISTS %s()", n.captureFunc(direction).Sanitize()))
}

// applier replays the log onto a target table whose layout it has read.
type applier struct {
	log    pgx.Identifier
	target pgx.Identifier
	key    []string
	// types are the target's key column types, as format_type prints
	// them (qualified where the search path does not show them).
	types []string
}

func newApplier(ctx context.Context, db pgx.Tx, n names, target pgx.Identifier, key []string) (*applier, error) {
	t, err := catalog.Read(ctx, db, target)
	if err != nil {
		return nil, err
	}
	a := &applier{log: n.log(), target: target, key: key}
	for _, k := range key {
		c, ok := t.Column(k)
		if !ok {
			return nil, fmt.Errorf("key column %s is not in %s", k, t)
		}
		a.types = append(a.types, c.Type)
	}
	return a, nil
}

// keyOf renders, in SQL, the key of the row held by jsonb expression j as
// text[], each value passed through the target's type so that the same
// key always reads the same whatever session logged it.
func (a *applier) keyOf(j string) string {
	parts := make([]string, len(a.key))
	for i, k := range a.key {
		parts[i] = fmt.Sprintf("((%s ->> %s)::%s)::text", j, quoteLiteral(k), a.types[i])
	}
	return "ARRAY[" + strings.Join(parts, ", ") + "]"
}

// matchKey is the condition that row alias t has the key held, as a
// jsonb array of text, by expression k.
func (a *applier) matchKey(t, k string) string {
	cols, vals := make([]string, len(a.key)), make([]string, len(a.key))
	for i, c := range a.key {
		cols[i] = t + "." + pgx.Identifier{c}.Sanitize()
		vals[i] = fmt.Sprintf("(%s ->> %d)::%s", k, i, a.types[i])
	}
	return "(" + strings.Join(cols, ", ") + ") = (" + strings.Join(vals, ", ") + ")"
}

// takeSQL takes the first $1 entries of the log out of it and reduces
// them: for every key they touch, the last entry decides whether the
// target holds the row, and with which values (an update that changes
// the key removes the old key and sets the new one). It returns how many
// entries it took, every key touched and the rows to put.
func (a *applier) takeSQL() string {
	return fmt.Sprintf(`
WITH taken AS (
    DELETE FROM %[1]s WHERE id IN (SELECT id FROM %[1]s ORDER BY id LIMIT $1) RETURNING id, op, old, new
), ev AS (
    SELECT id, %[2]s AS k, new AS val FROM taken WHERE op IN ('I', 'U')
    UNION ALL
    SELECT id, %[3]s, NULL FROM taken WHERE op IN ('U', 'D')
), last AS (
    SELECT DISTINCT ON (k) k, val FROM ev ORDER BY k, id DESC, val IS NULL
)
SELECT (SELECT count(*) FROM taken),
       coalesce((SELECT jsonb_agg(to_jsonb(k)) FROM last), '[]'),
       coalesce((SELECT jsonb_agg(val) FROM last WHERE val IS NOT NULL), '[]')`,
		a.log.Sanitize(), a.keyOf("new"), a.keyOf("old"))
}

// apply applies at most limit entries of the log in tx and returns how
// many it took.
func (a *applier) apply(ctx context.Context, tx pgx.Tx, limit int) (int64, error) {
	var taken int64
	var keys, vals string
	if err := tx.QueryRow(ctx, a.takeSQL(), limit).Scan(&taken, &keys, &vals); err != nil {
		return 0, fmt.Errorf("read the change log: %w", err)
	}
	if taken == 0 {
		return 0, nil
	}
	del := fmt.Sprintf("DELETE FROM %s t USING jsonb_array_elements($1::jsonb) e(k) WHERE %s", a.target.Sanitize(), a.matchKey("t", "e.k"))
	if _, err := tx.Exec(ctx, del, keys); err != nil {
		return 0, fmt.Errorf("apply the change log to %s: %w", a.target.Sanitize(), err)
	}
	put := fmt.Sprintf("INSERT INTO %[1]s SELECT (jsonb_populate_record(NULL::%[1]s, v)).* FROM jsonb_array_elements($1::jsonb) v", a.target.Sanitize())
	if _, err := tx.Exec(ctx, put, vals); err != nil {
		return 0, fmt.Errorf("apply the change log to %s: %w", a.target.Sanitize(), err)
	}
	return taken, nil
}
