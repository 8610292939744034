package rollout

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/queries"
	"hmperf/queries/catalog"
)

// Swapped is what swap and revert report.
type Swapped struct {
	Table string `json:"table"`
	// LockHeld is how long the ACCESS EXCLUSIVE lock on the tables was
	// held: from the moment LOCK TABLE returned to the end of COMMIT,
	// on the client's clock.
	LockHeld time.Duration `json:"lock_held_ns"`
	Applied  int64         `json:"log_entries_applied_under_lock"`
	Views    int           `json:"views_recreated"`
	Returned int64         `json:"quarantined_rows_returned"`
}

// Swap exchanges the live table and its twin in one transaction: both
// locked ACCESS EXCLUSIVE (under lock_timeout, retried with backoff as
// r.Lock says, naming the blocker), the rest of the change log applied,
// the views that read the table dropped and re-created on the twin, the
// live sequences handed over, the tables and their partitions exchanged
// between schemas so the twin takes every live name, and change capture
// turned around so the original stays current for revert.
func (r *Runner) Swap(ctx context.Context, table string) (*Swapped, error) {
	st, err := Open(ctx, r.Pool, table)
	if err != nil {
		return nil, err
	}
	if st.Phase != PhaseStarted || !st.BackfillDone {
		return nil, fmt.Errorf("rollout of %s: swap needs a finished backfill (phase %s, backfill done %v): run `hmperf rollout start %s` to the end", table, st.Phase, st.BackfillDone, table)
	}
	n := st.names()
	ap, err := r.applier(ctx, n, n.twin(), st.Key)
	if err != nil {
		return nil, err
	}
	if err := r.drain(ctx, ap, 1000); err != nil {
		return nil, err
	}
	out := &Swapped{Table: table}
	ex := exchange{n: n, park: OldSchema, from: NewSchema, types: st.EnumTypes, typesFrom: NewSchema, typesTo: n.schema,
		dropDir: "forward", addDir: "reverse", ap: ap}
	err = r.Lock.InTx(ctx, "swap "+n.String()+" with its twin", r.Pool, func(ctx context.Context, tx pgx.Tx) error {
		return ex.run(ctx, tx, out, func(ctx context.Context, tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "UPDATE hmperf.rollouts SET views = $2 WHERE id = $1", st.ID, ex.views); err != nil {
				return err
			}
			return setPhase(ctx, tx, st.ID, PhaseSwapped)
		})
	})
	if err != nil {
		return nil, err
	}
	out.LockHeld = time.Since(ex.locked)
	_, err = r.Pool.Exec(ctx, "UPDATE hmperf.rollouts SET swapped_at = clock_timestamp(), lock_held_ms = $2 WHERE id = $1",
		st.ID, float64(out.LockHeld.Microseconds())/1000)
	return out, err
}

// exchange is one swap of a serving table and its replacement.
type exchange struct {
	n names
	// park is where the serving table goes; from is where the
	// replacement waits.
	park, from string
	// types move from typesFrom to typesTo.
	types              []string
	typesFrom, typesTo string
	// dropDir is the capture removed from the serving table, addDir the
	// one installed on the replacement ("" for none).
	dropDir, addDir string
	ap              *applier
	locked          time.Time
	// restore, on the way back, are the views as they were before the
	// swap; on the way there views are read into views.
	restore, views []View
}

// replaceViews points the views at the table that now serves: on the way
// there through a projection that gives them the columns of the types
// they had, on the way back with their own definitions.
func (e *exchange) replaceViews(ctx context.Context, tx pgx.Tx, serving pgx.Identifier, original *catalog.Table) error {
	for _, v := range e.restore {
		if err := replaceView(ctx, tx, v, v.Definition); err != nil {
			return err
		}
	}
	if len(e.views) == 0 {
		return nil
	}
	now, err := catalog.Read(ctx, tx, serving)
	if err != nil {
		return err
	}
	var changed []string
	for _, c := range original.Columns {
		if n, ok := now.Column(c.Name); ok && n.Type != c.Type {
			changed = append(changed, c.Name)
		}
	}
	proj := projection(serving, original, changed)
	for _, v := range e.views {
		if err := replaceView(ctx, tx, v, wrapView(v.Definition, serving, proj)); err != nil {
			return err
		}
	}
	return nil
}

// run does the exchange in tx, then calls last (the state change) in it.
func (e *exchange) run(ctx context.Context, tx pgx.Tx, out *Swapped, last func(context.Context, pgx.Tx) error) error {
	serving, incoming := e.n.live(), pgx.Identifier{e.from, e.n.table}
	if err := exec(ctx, tx, "SET LOCAL search_path = pg_catalog"); err != nil {
		return err
	}
	if err := exec(ctx, tx, fmt.Sprintf("LOCK TABLE %s, %s IN ACCESS EXCLUSIVE MODE", serving.Sanitize(), incoming.Sanitize())); err != nil {
		return err
	}
	e.locked = time.Now()
	if err := syncPartitions(ctx, tx, serving, incoming); err != nil {
		return err
	}
	for {
		n, err := e.ap.apply(ctx, tx, 10000)
		if err != nil {
			return err
		}
		out.Applied += n
		if n == 0 {
			break
		}
	}
	original, err := catalog.Read(ctx, tx, serving)
	if err != nil {
		return err
	}
	if e.restore == nil {
		if e.views, err = readViews(ctx, tx, serving); err != nil {
			return err
		}
	}
	steps := []func() error{
		func() error { return handOverSample(ctx, tx, serving, incoming) },
		func() error { return dropCapture(ctx, tx, e.n, e.dropDir, serving) },
		func() error { return e.move(ctx, tx, serving, incoming) },
		func() error { return e.replaceViews(ctx, tx, serving, original) },
		func() error {
			if e.addDir == "" {
				return nil
			}
			return installCapture(ctx, tx, e.n, e.addDir, serving)
		},
		func() error { return last(ctx, tx) },
	}
	out.Views = len(e.views) + len(e.restore)
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// move exchanges the tables: the sequences the serving table's columns
// own are detached (they would move with it), the serving table and its
// partitions go to park, the replacement and its partitions come to the
// table's schema, the enum types follow, and the sequences are attached
// to the replacement's columns of the same name.
func (e *exchange) move(ctx context.Context, tx pgx.Tx, serving, incoming pgx.Identifier) error {
	seqs, err := ownedSequences(ctx, tx, serving)
	if err != nil {
		return err
	}
	for _, s := range seqs {
		if err := exec(ctx, tx, fmt.Sprintf("ALTER SEQUENCE %s OWNED BY NONE", s.seq)); err != nil {
			return err
		}
	}
	if err := setSchema(ctx, tx, serving, e.park); err != nil {
		return err
	}
	if err := setSchema(ctx, tx, incoming, e.n.schema); err != nil {
		return err
	}
	for _, t := range e.types {
		if err := exec(ctx, tx, fmt.Sprintf("ALTER TYPE %s SET SCHEMA %s", pgx.Identifier{e.typesFrom, t}.Sanitize(), pgx.Identifier{e.typesTo}.Sanitize())); err != nil {
			return err
		}
	}
	if err := moveValidation(ctx, tx, e.n.table, e.typesFrom, e.typesTo); err != nil {
		return err
	}
	for _, s := range seqs {
		if err := exec(ctx, tx, fmt.Sprintf("ALTER SEQUENCE %s OWNED BY %s.%s", s.seq, serving.Sanitize(), pgx.Identifier{s.column}.Sanitize())); err != nil {
			return err
		}
	}
	return nil
}

// setSchema moves table and its partitions to schema.
func setSchema(ctx context.Context, tx pgx.Tx, table pgx.Identifier, schema string) error {
	rows, err := tx.Query(ctx, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = $1::regclass ORDER BY c.relname`, table.Sanitize())
	if err != nil {
		return err
	}
	parts, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	to := pgx.Identifier{schema}.Sanitize()
	for _, p := range parts {
		if err := exec(ctx, tx, fmt.Sprintf("ALTER TABLE %s SET SCHEMA %s", pgx.Identifier{table[0], p}.Sanitize(), to)); err != nil {
			return err
		}
	}
	return exec(ctx, tx, fmt.Sprintf("ALTER TABLE %s SET SCHEMA %s", table.Sanitize(), to))
}

type ownedSeq struct{ seq, column string }

// ownedSequences lists the sequences owned by columns of table (serial
// columns), qualified.
func ownedSequences(ctx context.Context, tx pgx.Tx, table pgx.Identifier) ([]ownedSeq, error) {
	rows, err := tx.Query(ctx, `
		SELECT format('%I.%I', n.nspname, s.relname), a.attname
		  FROM pg_depend d
		  JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
		  JOIN pg_namespace n ON n.oid = s.relnamespace
		  JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
		 WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
		   AND d.refobjid = $1::regclass AND d.deptype = 'a'`, table.Sanitize())
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (ownedSeq, error) {
		var s ownedSeq
		return s, r.Scan(&s.seq, &s.column)
	})
}

// syncPartitions gives dst every partition src has that dst lacks (the
// service made one while the rollout ran), by name and bound.
func syncPartitions(ctx context.Context, tx pgx.Tx, src, dst pgx.Identifier) error {
	rows, err := tx.Query(ctx, `
		SELECT c.oid, c.relname, pg_get_expr(c.relpartbound, c.oid)
		  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		 WHERE i.inhparent = $1::regclass
		   AND c.relname NOT IN (SELECT d.relname FROM pg_inherits j JOIN pg_class d ON d.oid = j.inhrelid WHERE j.inhparent = $2::regclass)
		 ORDER BY c.relname`, src.Sanitize(), dst.Sanitize())
	if err != nil {
		return err
	}
	parts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Part, error) {
		var p Part
		return p, r.Scan(&p.OID, &p.Name, &p.Bound)
	})
	if err != nil {
		return err
	}
	for _, p := range parts {
		if err := addPartition(ctx, tx, dst, p); err != nil {
			return fmt.Errorf("rollout: add partition %s to %s: %w", p.Name, dst.Sanitize(), err)
		}
	}
	return nil
}

// View is a view that reads the table directly, as it was defined before
// the swap.
type View struct {
	Name       string `json:"name"` // qualified
	Options    string `json:"options"`
	Definition string `json:"definition"`
}

// viewsSQL lists the views reading table $1 or its partitions, their
// definitions printed with every name qualified (the caller's search
// path is pg_catalog).
const viewsSQL = `
SELECT DISTINCT c.oid::regclass::text, coalesce(array_to_string(c.reloptions, ', '), ''), rtrim(pg_get_viewdef(c.oid), ';')
  FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class c ON c.oid = r.ev_class
 WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass AND c.relkind = 'v'
   AND d.refobjid IN (SELECT $1::regclass::oid UNION ALL SELECT inhrelid FROM pg_inherits WHERE inhparent = $1::regclass)`

func readViews(ctx context.Context, tx pgx.Tx, table pgx.Identifier) ([]View, error) {
	rows, err := tx.Query(ctx, viewsSQL, table.Sanitize())
	if err != nil {
		return nil, fmt.Errorf("rollout: read the views on %s: %w", table.Sanitize(), err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (View, error) {
		var v View
		return v, r.Scan(&v.Name, &v.Options, &v.Definition)
	})
}

// replaceView re-creates v with definition def, under the same options.
// The definition yields the same columns of the same types, so the views
// built on v and its grants, owner and comment stay as they are.
func replaceView(ctx context.Context, tx pgx.Tx, v View, def string) error {
	with := ""
	if v.Options != "" {
		with = " WITH (" + v.Options + ")"
	}
	if err := exec(ctx, tx, fmt.Sprintf("CREATE OR REPLACE VIEW %s%s AS %s", v.Name, with, def)); err != nil {
		return fmt.Errorf("rollout: re-create view %s: %w", v.Name, err)
	}
	return nil
}

// fromTable matches a reference to a table in a view's FROM list, with
// the word after it (an alias, or a keyword).
var sqlKeywords = map[string]bool{"where": true, "group": true, "order": true, "limit": true, "join": true, "left": true,
	"right": true, "inner": true, "full": true, "cross": true, "on": true, "union": true, "window": true, "having": true,
	"natural": true, "offset": true, "fetch": true, "for": true, "except": true, "intersect": true, "using": true}

// wrapView rewrites a view's definition so that every reference to table
// reads it through a projection that casts the enum columns back to the
// types they replace: the view's columns keep their types, and its text
// comparisons keep working.
func wrapView(def string, table pgx.Identifier, projection string) string {
	name := func(s string) string {
		return `(?:` + regexp.QuoteMeta(pgx.Identifier{s}.Sanitize()) + `|` + regexp.QuoteMeta(s) + `)`
	}
	ref := regexp.MustCompile(`(FROM|JOIN) ` + name(table[0]) + `\.` + name(table[1]) + `\b( ([a-z_][a-z0-9_]*))?`)
	return ref.ReplaceAllStringFunc(def, func(m string) string {
		sub := ref.FindStringSubmatch(m)
		alias := sub[3]
		if alias == "" || sqlKeywords[alias] {
			return sub[1] + " (" + projection + ") " + pgx.Identifier{table[1]}.Sanitize() + sub[2]
		}
		return sub[1] + " (" + projection + ")" + sub[2]
	})
}

// projection selects every column of table, enum columns cast back to
// their live types.
func projection(table pgx.Identifier, original *catalog.Table, enums []string) string {
	cols := make([]string, len(original.Columns))
	for i, c := range original.Columns {
		id := pgx.Identifier{c.Name}.Sanitize()
		cols[i] = id
		if slices.Contains(enums, c.Name) {
			cols[i] = fmt.Sprintf("%s::text::%s AS %s", id, c.Type, id)
		}
	}
	return "SELECT " + strings.Join(cols, ", ") + " FROM " + table.Sanitize()
}

func execAll(ctx context.Context, tx pgx.Tx, stmts []string) error {
	for _, s := range stmts {
		if err := exec(ctx, tx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

// Revert undoes the rollout of table at any point before finish: before
// the swap it removes the capture, the twin and the log; after it, it
// swaps back under the same bounded lock (applying the changes the
// service made to the optimized table since), and then removes them. Rows
// set aside in quarantine return to the original table.
func (r *Runner) Revert(ctx context.Context, table string) (*Swapped, error) {
	st, err := Open(ctx, r.Pool, table)
	if errors.Is(err, ErrNoRollout) {
		return r.finishRevert(ctx, table, err)
	}
	if err != nil {
		return nil, err
	}
	n := st.names()
	out := &Swapped{Table: table}
	reverted := func(ctx context.Context, tx pgx.Tx) error { return setPhase(ctx, tx, st.ID, PhaseReverted) }
	if st.Phase == PhaseStarted {
		err = r.Lock.InTx(ctx, "revert the rollout of "+n.String(), r.Pool, func(ctx context.Context, tx pgx.Tx) error {
			if err := dropCapture(ctx, tx, n, "forward", n.live()); err != nil {
				return err
			}
			return reverted(ctx, tx)
		})
	} else {
		err = r.swapBack(ctx, st, out, reverted)
	}
	if err != nil {
		return nil, err
	}
	if err := r.cleanUp(ctx, st, out); err != nil {
		return out, err
	}
	return out, nil
}

// swapBack exchanges the tables back, under the swap's bounded lock.
func (r *Runner) swapBack(ctx context.Context, st *State, out *Swapped, last func(context.Context, pgx.Tx) error) error {
	n := st.names()
	ap, err := r.applier(ctx, n, n.old(), st.Key)
	if err != nil {
		return err
	}
	if err := r.drain(ctx, ap, 1000); err != nil {
		return err
	}
	ex := exchange{n: n, park: NewSchema, from: OldSchema, types: st.EnumTypes, typesFrom: n.schema, typesTo: NewSchema,
		dropDir: "reverse", ap: ap, restore: st.Views}
	if ex.restore == nil {
		ex.restore = []View{}
	}
	err = r.Lock.InTx(ctx, "swap "+n.String()+" back to its original", r.Pool, func(ctx context.Context, tx pgx.Tx) error {
		return ex.run(ctx, tx, out, last)
	})
	if err != nil {
		return err
	}
	out.LockHeld = time.Since(ex.locked)
	return nil
}

// cleanUp, once the original serves again, returns the quarantined rows
// to it and drops the twin, its types, the log and the capture functions,
// in a transaction of its own: none of it needs the live table's
// exclusive lock, so none of it lengthens the swap back.
func (r *Runner) cleanUp(ctx context.Context, st *State, out *Swapped) error {
	n := st.names()
	tx, err := r.Pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer queries.Rollback(tx)
	if out.Returned, err = putBack(ctx, tx, n, n.live()); err != nil {
		return fmt.Errorf("rollout of %s: the original layout serves again, but returning the quarantined rows failed (run revert again): %w", n, err)
	}
	if err := dropTwin(ctx, tx, n, st.EnumTypes); err != nil {
		return fmt.Errorf("rollout of %s: the original layout serves again, but dropping the twin failed (run revert again): %w", n, err)
	}
	return tx.Commit(ctx)
}

// finishRevert completes a revert whose clean-up did not finish: the
// newest rollout of table is reverted and its twin or quarantine is still
// there. Otherwise it returns noRollout.
func (r *Runner) finishRevert(ctx context.Context, table string, noRollout error) (*Swapped, error) {
	st, err := Latest(ctx, r.Pool, table)
	if err != nil || st == nil || st.Phase != PhaseReverted {
		return nil, errors.Join(noRollout, err)
	}
	var left bool
	if err := r.Pool.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL OR to_regclass($2) IS NOT NULL",
		st.names().twin().Sanitize(), st.names().quarantine().Sanitize()).Scan(&left); err != nil || !left {
		return nil, errors.Join(noRollout, err)
	}
	out := &Swapped{Table: table}
	return out, r.cleanUp(ctx, st, out)
}

// dropTwin drops the twin (in NewSchema), its enum types, the log and the
// capture functions, in tx.
func dropTwin(ctx context.Context, tx pgx.Tx, n names, types []string) error {
	stmts := []string{
		"DROP TABLE IF EXISTS " + n.twin().Sanitize(),
		"DROP TABLE IF EXISTS " + n.log().Sanitize(),
		"DROP FUNCTION IF EXISTS " + n.captureFunc("forward").Sanitize() + "()",
		"DROP FUNCTION IF EXISTS " + n.captureFunc("reverse").Sanitize() + "()",
		"DROP FUNCTION IF EXISTS " + pgx.Identifier{NewSchema, trim("validate_"+n.table, 63)}.Sanitize(),
	}
	for _, t := range types {
		stmts = append(stmts, "DROP TYPE IF EXISTS "+pgx.Identifier{NewSchema, t}.Sanitize()+" CASCADE")
	}
	return execAll(ctx, tx, stmts)
}

// Finished is what finish reports.
type Finished struct {
	Table      string `json:"table"`
	Quarantine string `json:"quarantine_kept,omitempty"`
	Kept       int64  `json:"quarantined_rows_kept"`
}

// Finish ends a swapped rollout for good: it drops the reverse capture,
// the original table (in OldSchema) and the log. A quarantine is kept,
// named, since its rows fit neither the new layout nor anywhere else.
func (r *Runner) Finish(ctx context.Context, table string) (*Finished, error) {
	st, err := Open(ctx, r.Pool, table)
	if err != nil {
		return nil, err
	}
	if st.Phase != PhaseSwapped {
		return nil, fmt.Errorf("rollout of %s is %s: finish needs a swapped rollout (swap first, or revert)", table, st.Phase)
	}
	n := st.names()
	out := &Finished{Table: table, Quarantine: st.Quarantine, Kept: st.Quarantined}
	err = r.Lock.InTx(ctx, "finish the rollout of "+n.String(), r.Pool, func(ctx context.Context, tx pgx.Tx) error {
		if err := dropCapture(ctx, tx, n, "reverse", n.live()); err != nil {
			return err
		}
		stmts := []string{
			"DROP TABLE " + n.old().Sanitize(),
			"DROP TABLE IF EXISTS " + n.log().Sanitize(),
			"DROP FUNCTION IF EXISTS " + n.captureFunc("forward").Sanitize() + "()",
		}
		if err := execAll(ctx, tx, stmts); err != nil {
			return err
		}
		return setPhase(ctx, tx, st.ID, PhaseFinished)
	})
	return out, err
}
