package bench

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/queries"
	"hmperf/queries/catalog"
	"hmperf/queries/lockwait"
	"hmperf/queries/sandbox"
)

// scratchPrefix starts the name of every schema that holds one run's
// scratch copies; the run's id completes it.
const scratchPrefix = "hmperf_scratch_"

// scratchSchema is the schema of run id's scratch copies.
func scratchSchema(runID int64) string { return fmt.Sprintf("%s%d", scratchPrefix, runID) }

// createScratch copies users and each of tables into a new schema of the
// run's own, which every measurement writes: the same columns, defaults,
// CHECKs, domains, indexes and partitions, and sequences of the copies' own
// (queries/sandbox makes those), plus the live tables' own triggers and
// their foreign keys to users, pointed at the copy of users so that row
// owners never reach the live one. The live tables are only read.
func createScratch(ctx context.Context, db queries.DBTX, schema string, tables []string) (err error) {
	tx, err := db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("bench: scratch copies: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		return fmt.Errorf("bench: create schema %s: %w", schema, err)
	}
	users, err := catalog.Read(ctx, tx, pgx.Identifier{"users"})
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	if err := sandbox.CopyTable(ctx, tx, schema, users); err != nil {
		return fmt.Errorf("bench: scratch copy of users: %w", err)
	}
	for _, table := range tables {
		if err := scratchCopy(ctx, tx, schema, table, users.OID); err != nil {
			return fmt.Errorf("bench: scratch copy of %s: %w", table, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("bench: scratch copies: %w", err)
	}
	return nil
}

func scratchCopy(ctx context.Context, tx pgx.Tx, schema, table string, usersOID uint32) error {
	live, err := catalog.Read(ctx, tx, pgx.Identifier{table})
	if err != nil {
		return err
	}
	if err := sandbox.CopyTable(ctx, tx, schema, live); err != nil {
		return err
	}
	copyIdent := pgx.Identifier{schema, table}.Sanitize()
	if err := copyTriggers(ctx, tx, live.OID, copyIdent); err != nil {
		return err
	}
	return copyUserKeys(ctx, tx, live.OID, usersOID, copyIdent, pgx.Identifier{schema, "users"}.Sanitize())
}

// copyTriggers re-creates the live table's own triggers (not the clones on
// its partitions, which the copy's partitions get from the copy) on the
// copy: the optimized tables validate in triggers, and a copy without them
// would measure a different table.
func copyTriggers(ctx context.Context, tx pgx.Tx, liveOID uint32, copyIdent string) error {
	rows, err := tx.Query(ctx, `
		SELECT pg_get_triggerdef(t.oid), format('%I.%I', n.nspname, c.relname)
		  FROM pg_trigger t
		  JOIN pg_class c ON c.oid = t.tgrelid
		  JOIN pg_namespace n ON n.oid = c.relnamespace
		 WHERE t.tgrelid = $1 AND NOT t.tgisinternal AND t.tgparentid = 0
		 ORDER BY t.tgname`, liveOID)
	if err != nil {
		return err
	}
	type def struct{ sql, rel string }
	defs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (def, error) {
		var d def
		err := r.Scan(&d.sql, &d.rel)
		return d, err
	})
	if err != nil {
		return err
	}
	for _, d := range defs {
		on := " ON " + d.rel + " "
		if !strings.Contains(d.sql, on) {
			return fmt.Errorf("cannot place trigger %q on the copy", d.sql)
		}
		if _, err := tx.Exec(ctx, strings.Replace(d.sql, on, " ON "+copyIdent+" ", 1)); err != nil {
			return fmt.Errorf("trigger on the copy: %w", err)
		}
	}
	return nil
}

// copyUserKeys re-creates the live table's foreign keys to users on the
// copy, referencing the copy of users.
func copyUserKeys(ctx context.Context, tx pgx.Tx, liveOID, usersOID uint32, copyIdent, usersIdent string) error {
	rows, err := tx.Query(ctx, `
		SELECT (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.ord)
		          FROM unnest(c.conkey) WITH ORDINALITY k(n, ord)
		          JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n),
		       (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.ord)
		          FROM unnest(c.confkey) WITH ORDINALITY k(n, ord)
		          JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n)
		  FROM pg_constraint c
		 WHERE c.conrelid = $1 AND c.confrelid = $2 AND c.contype = 'f' AND c.conparentid = 0`, liveOID, usersOID)
	if err != nil {
		return err
	}
	keys, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]string, error) {
		var k [2]string
		err := r.Scan(&k[0], &k[1])
		return k, err
	})
	if err != nil {
		return err
	}
	for _, k := range keys {
		if _, err := tx.Exec(ctx, fmt.Sprintf("ALTER TABLE %s ADD FOREIGN KEY (%s) REFERENCES %s (%s)", copyIdent, k[0], usersIdent, k[1])); err != nil {
			return fmt.Errorf("foreign key on the copy: %w", err)
		}
	}
	return nil
}

// dropScratch drops a run's scratch schema with everything in it. It has
// its own context: a cancelled or failed run must still leave nothing.
func dropScratch(db queries.DBTX, schema string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := db.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
		return fmt.Errorf("bench: drop scratch schema %s: %w", schema, err)
	}
	return nil
}

// Swept is what Sweep cleaned up after benchmarks whose hmperf ended
// without doing it.
type Swept struct {
	Interrupted []int64  // runs now stored as interrupted
	Schemas     []string // scratch schemas dropped
	InUse       []string // scratch schemas of live runs, left alone
}

// Log writes one line per run marked and schema dropped to w (nil: none),
// each starting with who says it.
func (s Swept) Log(w io.Writer, who string) {
	if w == nil {
		return
	}
	for _, id := range s.Interrupted {
		fmt.Fprintf(w, "%s: benchmark run %d is stored as interrupted: its hmperf ended before recording the end\n", who, id)
	}
	for _, schema := range s.Schemas {
		fmt.Fprintf(w, "%s: dropped scratch schema %s, left by a benchmark whose hmperf ended\n", who, schema)
	}
}

// Sweep stores every run whose owner is gone as interrupted and drops the
// scratch schemas nobody uses any more: what a killed hmperf could not do
// itself. Liveness decides, never the stored status: a scratch schema is
// in use while the ownership lock of its run id is held (ownRun), and a
// killed run's row says "running". The next run calls it, and
// `migrate down --all` before it drops hmperf's functions (a leftover copy's
// triggers depend on them). It works without hmperf's tables. A dead
// run's backend may still hold its copies for a moment after its hmperf
// was killed (until the server notices the client is gone): dropping them
// retries a lock wait that timed out, as locks says.
func Sweep(ctx context.Context, db queries.DBTX, locks lockwait.Policy) (Swept, error) {
	var s Swept
	var err error
	if s.Interrupted, err = markInterrupted(ctx, db); err != nil {
		return s, err
	}
	rows, err := db.Query(ctx, `
		SELECT n.nspname, `+ownedBy("substr(n.nspname, length($1) + 1)::bigint")+` FROM pg_namespace n
		 WHERE n.nspname ~ ('^' || $1 || '[0-9]+$')
		 ORDER BY n.nspname`, scratchPrefix)
	if err != nil {
		return s, fmt.Errorf("bench: find stale scratch schemas: %w", err)
	}
	type scratch struct {
		name  string
		owned bool
	}
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (scratch, error) {
		var sc scratch
		err := r.Scan(&sc.name, &sc.owned)
		return sc, err
	})
	if err != nil {
		return s, fmt.Errorf("bench: find stale scratch schemas: %w", err)
	}
	for _, sc := range all {
		if sc.owned {
			s.InUse = append(s.InUse, sc.name)
			continue
		}
		if err := locks.Run(ctx, "bench: drop scratch schema "+sc.name, nil, func(context.Context) error {
			return dropScratch(db, sc.name)
		}); err != nil {
			return s, err
		}
		s.Schemas = append(s.Schemas, sc.name)
	}
	return s, nil
}

// inScratch builds scratch copies of users and tables in schema, runs fn on
// them and drops schema however fn ends (an error, a cancelled ctx or a
// panic). The caller owns schema's run id (ownRun) throughout.
func inScratch(ctx context.Context, db queries.DBTX, locks lockwait.Policy, log io.Writer, schema string, tables []string, fn func() error) (err error) {
	swept, err := Sweep(ctx, db, locks)
	if err != nil {
		return err
	}
	swept.Log(log, "hmperf bench")
	defer func() {
		if derr := dropScratch(db, schema); derr != nil && err == nil {
			err = derr
		}
	}()
	// The copies only read the live tables, but even a read queues behind
	// the service's own DDL: under lock_timeout the set-up gives up its place
	// and retries, one transaction per attempt.
	if err := locks.Run(ctx, "bench: scratch copies", lockwait.AppWatch(db), func(ctx context.Context) error {
		return createScratch(ctx, db, schema, tables)
	}); err != nil {
		return err
	}
	return fn()
}

// WithScratch runs fn on scratch copies of users and tables (live table
// names, found on the search path) in a schema of their own, which fn is
// given: for measurements other than Run's that must not write the live
// tables. The schema is dropped however fn ends. Its set-up retries a lock
// wait that timed out for lockwait's default budget.
func WithScratch(ctx context.Context, db queries.DBTX, tables []string, fn func(schema string) error) error {
	id, release, err := ownRun(ctx, db, nil)
	if err != nil {
		return err
	}
	defer release()
	schema := scratchSchema(id)
	return inScratch(ctx, db, lockwait.Policy{}, nil, schema, tables, func() error { return fn(schema) })
}

// SweepBeforeDown is `migrate down --all`'s first step: it drops the
// scratch schemas of benchmarks whose hmperf was killed (and stores those
// runs as interrupted), whose copies' triggers depend on functions the down
// migrations drop, logging to log what it dropped. A live benchmark's
// copies would make a down step fail halfway: then it refuses before the
// first step, naming them.
func SweepBeforeDown(ctx context.Context, db queries.DBTX, locks lockwait.Policy, log io.Writer) error {
	swept, err := Sweep(ctx, db, locks)
	if err != nil {
		return fmt.Errorf("migrate down --all: %w", err)
	}
	swept.Log(log, "hmperf migrate")
	if len(swept.InUse) > 0 {
		return fmt.Errorf("migrate down --all: a benchmark is running (scratch schema %s, dropped when it ends); run down --all again after it", strings.Join(swept.InUse, ", "))
	}
	return nil
}
