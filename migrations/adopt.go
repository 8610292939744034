package migrations

import (
	"context"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Difference is one way a live base table differs from what hmperf's base
// migrations would have built.
type Difference struct {
	Table    string `json:"table"`
	Column   string `json:"column,omitempty"`
	Expected string `json:"expected"`
	Found    string `json:"found"`
	// Blocking differences stop adoption: hmperf cannot work around them
	// (a missing table, or a missing column of a table's key).
	Blocking bool `json:"blocking"`
}

// AdoptionCheck is what CheckAdoption found.
type AdoptionCheck struct {
	Foreign     *Foreign     `json:"foreign"`
	Differences []Difference `json:"differences"`
}

// Blocking returns the differences that stop adoption.
func (a AdoptionCheck) Blocking() []Difference {
	var out []Difference
	for _, d := range a.Differences {
		if d.Blocking {
			out = append(out, d)
		}
	}
	return out
}

// rowsQuerier is a connection or transaction that can return rows.
type rowsQuerier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// rollbackTimeout bounds a rollback on a fresh context.
const rollbackTimeout = 5 * time.Second

// column is one column as the catalogue describes it.
type column struct {
	Table, Name, Type string
	NotNull, Default  bool
}

// scratchSchema receives hmperf's base migrations during CheckAdoption, inside
// a transaction that is always rolled back.
const scratchSchema = "hmperf_adopt_check"

// CheckAdoption compares the database's base tables with hmperf's base
// migrations. The expected layout is read from the catalogue after running
// the base migrations into a scratch schema inside a transaction that is
// rolled back, so the comparison can never drift from the migration files.
// It changes nothing. src nil means the embedded FS.
func CheckAdoption(ctx context.Context, conn *pgx.Conn, src fs.FS) (AdoptionCheck, error) {
	if src == nil {
		src = FS
	}
	st, err := ReadStatus(ctx, conn, src)
	if err != nil {
		return AdoptionCheck{}, err
	}
	if st.State != StateForeign {
		return AdoptionCheck{}, fmt.Errorf("nothing to adopt: this database is %s; %s", st.Summary, st.Next)
	}
	expected, keys, err := expectedLayout(ctx, conn, src)
	if err != nil {
		return AdoptionCheck{}, err
	}
	live, err := readColumns(ctx, conn, "public")
	if err != nil {
		return AdoptionCheck{}, err
	}
	return AdoptionCheck{Foreign: st.Foreign, Differences: compareLayouts(expected, live, keys)}, nil
}

var txControl = regexp.MustCompile(`(?m)^\s*(BEGIN|COMMIT)\s*;\s*$`)

// expectedLayout runs the base migrations into the scratch schema and reads
// back their columns and the columns of their primary and unique keys.
func expectedLayout(ctx context.Context, conn *pgx.Conn, src fs.FS) (map[string][]column, map[string][]string, error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer rollback(tx)
	if _, err := tx.Exec(ctx, "CREATE SCHEMA "+scratchSchema+"; SET LOCAL search_path = "+scratchSchema+", public"); err != nil {
		return nil, nil, fmt.Errorf("prepare the adoption check: %w", err)
	}
	files, err := List(src)
	if err != nil {
		return nil, nil, err
	}
	for _, f := range files {
		if f.Version > BaseVersion {
			break
		}
		name := fmt.Sprintf("%04d_%s.up.sql", f.Version, f.Name)
		body, err := fs.ReadFile(src, name)
		if err != nil {
			return nil, nil, err
		}
		if _, err := tx.Exec(ctx, txControl.ReplaceAllString(string(body), "")); err != nil {
			return nil, nil, fmt.Errorf("build the expected layout from %s: %w", name, err)
		}
	}
	cols, err := readColumns(ctx, tx, scratchSchema)
	if err != nil {
		return nil, nil, err
	}
	keys, err := readKeyColumns(ctx, tx, scratchSchema)
	return cols, keys, err
}

func rollback(tx pgx.Tx) {
	// A fresh context: the caller's may be cancelled, and the rollback
	// must still reach the server.
	ctx, cancel := context.WithTimeout(context.Background(), rollbackTimeout)
	defer cancel()
	_ = tx.Rollback(ctx)
}

// readColumns reads the columns of the base tables in schema.
func readColumns(ctx context.Context, db rowsQuerier, schema string) (map[string][]column, error) {
	rows, err := db.Query(ctx, `
		SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
		       a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> ''
		  FROM pg_class c
		  JOIN pg_namespace n ON n.oid = c.relnamespace
		  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
		 WHERE n.nspname = $1 AND c.relname = ANY($2) AND c.relkind IN ('r', 'p')
		 ORDER BY c.relname, a.attnum`, schema, baseTables)
	if err != nil {
		return nil, fmt.Errorf("read the columns of schema %s: %w", schema, err)
	}
	out := map[string][]column{}
	var c column
	_, err = pgx.ForEachRow(rows, []any{&c.Table, &c.Name, &c.Type, &c.NotNull, &c.Default}, func() error {
		out[c.Table] = append(out[c.Table], c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the columns of schema %s: %w", schema, err)
	}
	return out, nil
}

// readKeyColumns reads, per base table, the columns of its primary key and
// unique constraints: what deduplication and ON CONFLICT rely on.
func readKeyColumns(ctx context.Context, tx pgx.Tx, schema string) (map[string][]string, error) {
	rows, err := tx.Query(ctx, `
		SELECT c.relname, a.attname
		  FROM pg_index i
		  JOIN pg_class c ON c.oid = i.indrelid
		  JOIN pg_namespace n ON n.oid = c.relnamespace
		  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey)
		 WHERE n.nspname = $1 AND c.relname = ANY($2) AND (i.indisprimary OR i.indisunique)
		 GROUP BY c.relname, a.attname`, schema, baseTables)
	if err != nil {
		return nil, fmt.Errorf("read the keys of schema %s: %w", schema, err)
	}
	out := map[string][]string{}
	var table, col string
	_, err = pgx.ForEachRow(rows, []any{&table, &col}, func() error {
		if col != "id" {
			out[table] = append(out[table], col)
		}
		return nil
	})
	return out, err
}

// compareLayouts lists every difference between the expected and the live
// base tables, table by table in baseTables order.
func compareLayouts(expected, live map[string][]column, keys map[string][]string) []Difference {
	var out []Difference
	for _, table := range baseTables {
		want, have := expected[table], live[table]
		if len(have) == 0 {
			out = append(out, Difference{Table: table, Expected: "table", Found: "missing", Blocking: true})
			continue
		}
		out = append(out, compareTable(table, want, have, keys[table])...)
	}
	return out
}

func compareTable(table string, want, have []column, key []string) []Difference {
	var out []Difference
	byName := map[string]column{}
	for _, c := range have {
		byName[c.Name] = c
	}
	for _, w := range want {
		h, ok := byName[w.Name]
		delete(byName, w.Name)
		switch {
		case !ok:
			out = append(out, Difference{Table: table, Column: w.Name, Expected: describeColumn(w), Found: "missing",
				Blocking: slices.Contains(key, w.Name)})
		case h.Type != w.Type || requiredWithoutValue(h) != requiredWithoutValue(w):
			out = append(out, Difference{Table: table, Column: w.Name, Expected: describeColumn(w), Found: describeColumn(h)})
		}
	}
	for _, h := range have {
		if _, extra := byName[h.Name]; extra {
			out = append(out, Difference{Table: table, Column: h.Name, Expected: "absent", Found: describeColumn(h)})
		}
	}
	return out
}

// requiredWithoutValue is a column an insert must name: NOT NULL and nothing
// fills it by default.
func requiredWithoutValue(c column) bool { return c.NotNull && !c.Default }

func describeColumn(c column) string {
	parts := []string{c.Type}
	if c.NotNull {
		parts = append(parts, "NOT NULL")
	}
	if requiredWithoutValue(c) {
		parts = append(parts, "no default")
	}
	return strings.Join(parts, " ")
}

// Adopt records a database that another tool built as hmperf's base: it
// writes hmperf.adoption (who managed it, at which version) and records
// BaseVersion in hmperf.schema_migrations, without running any migration
// and without touching any object of the service's. hmperf's own
// migrations then apply with Migrator.Up. It refuses blocking differences.
func Adopt(ctx context.Context, conn *pgx.Conn, check AdoptionCheck) error {
	if b := check.Blocking(); len(b) > 0 {
		return fmt.Errorf("cannot adopt: %d difference(s) hmperf cannot work around, first %s", len(b), b[0])
	}
	f := check.Foreign
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer rollback(tx)
	stmts := []struct {
		sql  string
		args []any
	}{
		// The migration lock, for this transaction: an adoption never
		// interleaves with another schema change.
		{"SELECT pg_advisory_xact_lock($1::int, $2::int)", []any{LockClass, LockObject}},
		{"CREATE SCHEMA IF NOT EXISTS " + Schema, nil},
		{`CREATE TABLE hmperf.adoption (
			adopted_at  timestamptz NOT NULL DEFAULT now(),
			tool        text        NOT NULL,
			version     text        NOT NULL,
			base_tables integer     NOT NULL,
			differences integer     NOT NULL)`, nil},
		{"COMMENT ON TABLE hmperf.adoption IS 'Written by hmperf migrate adopt: this database was built by another tool; hmperf never reverts below the base version.'", nil},
		{"INSERT INTO hmperf.adoption (tool, version, base_tables, differences) VALUES ($1, $2, $3, $4)",
			[]any{f.Tool, f.Version, len(f.BaseTables), len(check.Differences)}},
		// The layout createVersionTable makes (golang-migrate's, which
		// older hmperf used).
		{"CREATE TABLE hmperf.schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)", nil},
		{"INSERT INTO hmperf.schema_migrations (version, dirty) VALUES ($1, false)", []any{int64(BaseVersion)}},
	}
	for _, s := range stmts {
		if _, err := tx.Exec(ctx, s.sql, s.args...); err != nil {
			return fmt.Errorf("adopt: %w", err)
		}
	}
	return tx.Commit(ctx)
}

// String renders a difference on one line.
func (d Difference) String() string {
	where := d.Table
	if d.Column != "" {
		where += "." + d.Column
	}
	return fmt.Sprintf("%s: expected %s, found %s", where, d.Expected, d.Found)
}
