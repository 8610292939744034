package indexq

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"hmperf/queries"
)

// identRe is the only shape of table, index and column name the worker will
// put into DDL. Quoting with pgx.Identifier already makes any name safe; the
// whitelist is a second wall, and it turns a queue row that someone wrote by
// hand (or an attacker wrote through another bug) into a failed job with a
// reason instead of an odd object name.
var identRe = regexp.MustCompile(`^[a-z0-9_]{1,63}$`)

// methods are the access methods a job may ask for.
var methods = []string{"brin", "btree", "gin"}

// checkNames rejects a job whose names or method fall outside the
// whitelist, without touching the database.
func checkNames(j Job) error {
	for _, n := range []struct{ what, v string }{{"table", j.Table}, {"index", j.Index}} {
		if !identRe.MatchString(n.v) {
			return fmt.Errorf("rejected: %s name %q %s; only [a-z0-9_] (1-63 characters) is allowed", n.what, n.v, whyBad(n.v))
		}
	}
	if !slices.Contains(methods, j.Method) {
		return fmt.Errorf("rejected: index method %q is not one of %s", j.Method, strings.Join(methods, ", "))
	}
	if j.Unique && j.Method != "btree" {
		return fmt.Errorf("rejected: a %s index cannot be unique (only btree)", j.Method)
	}
	if len(j.Columns) == 0 {
		return fmt.Errorf("rejected: no columns given for index %s", j.Index)
	}
	for _, c := range j.Columns {
		if !identRe.MatchString(c) {
			return fmt.Errorf("rejected: column name %q %s; only [a-z0-9_] is allowed", c, whyBad(c))
		}
	}
	return nil
}

// whyBad names the first offending character class, so the error says why.
func whyBad(s string) string {
	switch {
	case s == "":
		return "is empty"
	case len(s) > 63:
		return "is longer than 63 characters"
	case strings.ContainsAny(s, `'"`+"`"):
		return "contains a quote"
	case strings.Contains(s, ";"):
		return "contains a semicolon"
	case strings.ContainsAny(s, " \t\r\n"):
		return "contains white space"
	default:
		return "contains a character outside [a-z0-9_]"
	}
}

// checkCatalog verifies that the table is a plain table of the current
// schema and that every column exists. A partitioned parent is refused:
// CREATE INDEX CONCURRENTLY cannot build on one, so jobs target partitions.
func checkCatalog(ctx context.Context, db queries.DBTX, j Job) error {
	var schema, kind string
	err := db.QueryRow(ctx, `
		SELECT current_schema(), coalesce((SELECT c.relkind::text FROM pg_class c
		 WHERE c.relname = $1 AND c.relnamespace = current_schema()::regnamespace), '')`, j.Table).Scan(&schema, &kind)
	if err != nil {
		return fmt.Errorf("look up table %s: %w", j.Table, err)
	}
	switch kind {
	case "":
		return fmt.Errorf("rejected: table %s does not exist in schema %s", j.Table, schema)
	case "r", "m":
	case "p":
		return fmt.Errorf("rejected: %s is a partitioned table; CREATE INDEX CONCURRENTLY cannot build on a partitioned parent, queue its partitions instead", j.Table)
	default:
		return fmt.Errorf("rejected: %s is not a table (relkind %s)", j.Table, kind)
	}
	var missing []string
	err = db.QueryRow(ctx, `
		SELECT coalesce(array_agg(c ORDER BY c), '{}') FROM unnest($2::text[]) AS c
		 WHERE NOT EXISTS (SELECT 1 FROM pg_attribute a
		                    WHERE a.attrelid = (SELECT oid FROM pg_class WHERE relname = $1 AND relnamespace = current_schema()::regnamespace)
		                      AND a.attname = c AND a.attnum > 0 AND NOT a.attisdropped)`,
		j.Table, j.Columns).Scan(&missing)
	if err != nil {
		return fmt.Errorf("look up columns of %s: %w", j.Table, err)
	}
	if len(missing) > 0 {
		return fmt.Errorf("rejected: table %s has no column %s", j.Table, strings.Join(missing, ", "))
	}
	return checkNameFree(ctx, db, j)
}

// checkNameFree refuses an index name already taken by a relation other
// than an index on the job's table (a table, a view, another table's index).
func checkNameFree(ctx context.Context, db queries.DBTX, j Job) error {
	var owner string
	err := db.QueryRow(ctx, `
		SELECT coalesce((SELECT t.relname FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid WHERE i.indexrelid = c.oid), '')
		  FROM pg_class c WHERE c.relname = $1 AND c.relnamespace = current_schema()::regnamespace`, j.Index).Scan(&owner)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("look up index name %s: %w", j.Index, err)
	case owner != j.Table:
		return fmt.Errorf("rejected: the name %s is already taken by another relation", j.Index)
	}
	return nil
}

// createSQL renders the build statement. Every name goes through
// pgx.Identifier even though checkNames already whitelisted it.
func createSQL(j Job) string {
	cols := make([]string, len(j.Columns))
	for i, c := range j.Columns {
		cols[i] = pgx.Identifier{c}.Sanitize()
	}
	unique := ""
	if j.Unique {
		unique = "UNIQUE "
	}
	return fmt.Sprintf("CREATE %sINDEX CONCURRENTLY %s ON %s USING %s (%s)", unique,
		pgx.Identifier{j.Index}.Sanitize(), pgx.Identifier{j.Table}.Sanitize(), j.Method, strings.Join(cols, ", "))
}
