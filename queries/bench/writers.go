package bench

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/queries"
)

// maxParams is the most bind parameters one statement can carry in the
// PostgreSQL protocol (a 16-bit count).
const maxParams = 65535

// writer measures one pair's variants by one method.
type writer interface {
	// measure times writing the pair's rows into variant v (or, when
	// together is true, into every variant at once) and returns the
	// measurements.
	measure(ctx context.Context, v Variant) ([]Measurement, error)
	together() bool
	// between restores the tables' state after a repetition: committed
	// rows are truncated, and dead tuples of rolled-back rows vacuumed, so
	// the last repetition runs against the same tables as the first.
	between(ctx context.Context) error
}

func newWriter(ctx context.Context, db queries.DBTX, opt Options, pair Pair, schema string) (writer, error) {
	if opt.Method == MethodFunction {
		return &funcWriter{db: db, pair: pair, rows: opt.Rows, schema: schema}, nil
	}
	gen, err := Generate(pair.Name, opt.Rows, opt.Seed, opt.Anchor)
	if err != nil {
		return nil, err
	}
	users, err := ReadUsers(ctx, db, schema)
	if err != nil {
		return nil, err
	}
	ds, err := prepare(ctx, db, pair, gen, users, schema)
	if err != nil {
		return nil, err
	}
	w := &rowWriter{db: db, pair: pair, ds: ds, method: opt.Method, commit: opt.Commit}
	if w.commit {
		// Committed measurements find their owners committed already, in
		// the copy of users.
		if err := ds.users.Insert(ctx, db, ds.owners); err != nil {
			return nil, fmt.Errorf("bench: create row owners in the scratch copy: %w", err)
		}
	}
	if err := w.warmup(ctx); err != nil {
		return nil, err
	}
	if opt.Method == MethodCopy {
		// Every variant's COPY data is encoded now, once, so no repetition
		// follows a burst of the client's encoding.
		for _, v := range Variants {
			if _, err := w.ds.copyData(v); err != nil {
				return nil, err
			}
		}
	}
	return w, nil
}

// rowWriter writes the generated rows by COPY or by the service's INSERTs.
type rowWriter struct {
	db     queries.DBTX
	pair   Pair
	ds     variantData
	method Method
	commit bool
}

func (w *rowWriter) together() bool { return false }

func (w *rowWriter) warmup(ctx context.Context) error {
	small := *w
	small.ds = w.ds.head(warmupRows)
	for _, v := range Variants {
		if _, err := small.measure(ctx, v); err != nil {
			return err
		}
	}
	return w.between(ctx)
}

// measure times one write of the rows into the variant's table, in one
// transaction: committed (the commit inside the clock) or rolled back
// (outside it).
func (w *rowWriter) measure(ctx context.Context, v Variant) ([]Measurement, error) {
	table, rows := w.ds.tables[v], w.ds.rows[v]
	tx, err := w.db.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("bench: begin: %w", err)
	}
	// Rolled back with a fresh context: a cancelled ctx must still leave
	// nothing behind.
	defer func() {
		rctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = tx.Rollback(rctx)
	}()
	if !w.commit {
		if err := w.ds.users.Insert(ctx, tx, w.ds.owners); err != nil {
			return nil, fmt.Errorf("bench: create row owners: %w", err)
		}
	}
	var payload copyPayload
	if w.method != MethodService {
		// Encoded before the clock: the clock times the server's COPY of
		// the rows, not the client's encoder.
		if payload, err = w.ds.copyData(v); err != nil {
			return nil, err
		}
	}
	start := time.Now()
	n, err := w.write(ctx, tx, table, rows, payload)
	if err == nil && w.commit {
		err = tx.Commit(ctx)
	}
	secs := time.Since(start).Seconds()
	if err != nil {
		return nil, fmt.Errorf("bench: %s into %s: %w", w.method, table.m.Table, err)
	}
	if int(n) != len(rows) {
		return nil, fmt.Errorf("bench: %s into %s wrote %d of %d rows", w.method, table.m.Table, n, len(rows))
	}
	return []Measurement{{Table: w.pair.Name, Variant: v, Rows: len(rows), Seconds: secs, RowsPerSec: float64(len(rows)) / secs}}, nil
}

func (w *rowWriter) write(ctx context.Context, tx pgx.Tx, t variantTable, rows [][]any, payload copyPayload) (int64, error) {
	if w.method == MethodService {
		return insertChunked(ctx, tx, t.m.Table.Ident(), t.m.Columns, rows)
	}
	return copyEncoded(ctx, tx, payload)
}

func (w *rowWriter) between(ctx context.Context) error {
	for _, v := range Variants {
		ident := w.ds.tables[v].m.Table.Ident().Sanitize()
		stmt := "VACUUM " + ident
		if w.commit {
			stmt = "TRUNCATE " + ident
		}
		if _, err := w.db.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("bench: %s: %w", stmt, err)
		}
	}
	return nil
}

// ChunkRows is how many rows of cols columns one INSERT carries: as many
// as fit in the protocol's parameter limit.
func ChunkRows(cols int) int { return max(maxParams/max(cols, 1), 1) }

// insertChunked writes rows as the service does: multi-row INSERT ... ON
// CONFLICT DO NOTHING statements of ChunkRows rows each.
func insertChunked(ctx context.Context, tx pgx.Tx, table pgx.Identifier, cols []string, rows [][]any) (int64, error) {
	chunk := ChunkRows(len(cols))
	var total int64
	args := make([]any, 0, chunk*len(cols))
	for start := 0; start < len(rows); start += chunk {
		part := rows[start:min(start+chunk, len(rows))]
		args = args[:0]
		for _, r := range part {
			args = append(args, r...)
		}
		tag, err := tx.Exec(ctx, insertSQL(table, cols, len(part)), args...)
		if err != nil {
			return total, err
		}
		total += tag.RowsAffected()
	}
	return total, nil
}

// insertSQL is INSERT INTO table (cols) VALUES ($1, ...), ... for n rows.
func insertSQL(table pgx.Identifier, cols []string, n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + table.Sanitize() + " (")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(pgx.Identifier{c}.Sanitize())
	}
	b.WriteString(") VALUES ")
	p := 1
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for j := range cols {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("$" + strconv.Itoa(p))
			p++
		}
		b.WriteByte(')')
	}
	b.WriteString(" ON CONFLICT DO NOTHING")
	return b.String()
}

// funcWriter calls the report's benchmark function: one call times every
// variant, server-side.
type funcWriter struct {
	db     queries.DBTX
	pair   Pair
	rows   int
	schema string // the scratch schema the function's tables resolve to
}

func (w *funcWriter) together() bool { return true }

func (w *funcWriter) measure(ctx context.Context, _ Variant) ([]Measurement, error) {
	res, err := w.call(ctx)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	byVariant := map[Variant]Measurement{}
	for _, r := range res {
		if r.Seconds <= 0 || r.Rows <= 0 {
			return nil, fmt.Errorf("bench: %s reported %d rows in %g s for %s", sqlFunctions[w.pair.Name], r.Rows, r.Seconds, r.Variant)
		}
		byVariant[r.Variant] = Measurement{Table: w.pair.Name, Variant: r.Variant, Rows: int(r.Rows), Seconds: r.Seconds, RowsPerSec: float64(r.Rows) / r.Seconds}
	}
	out := make([]Measurement, 0, len(Variants))
	for _, v := range Variants {
		m, ok := byVariant[v]
		if !ok {
			return nil, fmt.Errorf("bench: %s returned no %s row", sqlFunctions[w.pair.Name], v)
		}
		out = append(out, m)
	}
	return out, nil
}

// call runs the pair's function with the scratch schema first on the
// search path, in a transaction of its own: the functions name their
// tables and users unqualified, so they write the scratch copies, and find
// everything else (the enums, hmperf's helpers) where they always did.
func (w *funcWriter) call(ctx context.Context) ([]SQLResult, error) {
	tx, err := w.db.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer queries.Rollback(tx)
	if _, err := tx.Exec(ctx, "SELECT set_config('search_path', $1 || ', ' || current_setting('search_path'), true)",
		pgx.Identifier{w.schema}.Sanitize()); err != nil {
		return nil, fmt.Errorf("put the scratch schema on the search path: %w", err)
	}
	return RunSQL(ctx, tx, w.pair.Name, w.rows)
}

func (w *funcWriter) between(ctx context.Context) error {
	for _, v := range Variants {
		stmt := "VACUUM " + qualify(w.schema, w.pair.Tables[v]).Sanitize()
		if _, err := w.db.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("bench: %s: %w", stmt, err)
		}
	}
	return nil
}
