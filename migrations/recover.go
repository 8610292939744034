package migrations

import (
	"context"
	"fmt"
	"io/fs"
	"regexp"
	"strings"

	"hmperf/queries"
)

// probe is one object whose presence in the catalogue tells whether a
// migration is in place: the first object its up creates (plain CREATE,
// so it did not exist before), or, for a migration that only replaces
// functions, the first function with the body it gives.
type probe struct {
	Kind, Schema, Name string
	// Body is the function body a replacing migration gives; empty for
	// an object that is probed by existence.
	Body string
}

func (p probe) String() string {
	if p.Kind == "QUERY" {
		return "the migration's probe (" + p.Body + ")"
	}
	if p.Body != "" {
		return fmt.Sprintf("function %s.%s with migration's body", p.Schema, p.Name)
	}
	return fmt.Sprintf("%s %s.%s", strings.ToLower(p.Kind), p.Schema, p.Name)
}

var (
	createObject   = regexp.MustCompile(`(?is)^CREATE\s+(?:UNIQUE\s+)?(TABLE|TYPE|DOMAIN|SCHEMA|FUNCTION|INDEX|VIEW|SEQUENCE|MATERIALIZED\s+VIEW)\s+([A-Za-z_][\w.]*)`)
	replaceFunc    = regexp.MustCompile(`(?is)^CREATE\s+OR\s+REPLACE\s+FUNCTION\s+([A-Za-z_][\w.]*)\s*\(.*?\bAS\s+(\$\w*\$)`)
	probeComment   = regexp.MustCompile(`(?m)^--\s*probe:\s*(.+)$`)
	notExistsGuard = regexp.MustCompile(`(?is)^CREATE\s+(?:UNIQUE\s+)?\S+(?:\s+VIEW)?\s+IF\s+NOT\s+EXISTS\b`)
)

// probeOf derives the probe of an up file; false when the file creates
// nothing that can tell. A file that only alters what exists (a CHECK
// widened under the same name) gives its probe itself, on a comment line
// "-- probe: <query returning one boolean>".
func probeOf(body string) (probe, bool) {
	if m := probeComment.FindStringSubmatch(body); m != nil {
		return probe{Kind: "QUERY", Body: strings.TrimSpace(m[1])}, true
	}
	stmts := splitStatements(body)
	for _, s := range stmts {
		if m := createObject.FindStringSubmatch(s.code()); m != nil && !notExistsGuard.MatchString(s.code()) {
			kind := strings.ToUpper(strings.Join(strings.Fields(m[1]), " "))
			schema, name := qualify(m[2])
			return probe{Kind: kind, Schema: schema, Name: name}, true
		}
	}
	for _, s := range stmts {
		code := s.code()
		if m := replaceFunc.FindStringSubmatchIndex(code); m != nil {
			tag := code[m[4]:m[5]]
			rest := code[m[5]:]
			end := strings.Index(rest, tag)
			if end < 0 {
				continue
			}
			schema, name := qualify(code[m[2]:m[3]])
			return probe{Kind: "FUNCTION", Schema: schema, Name: name, Body: rest[:end]}, true
		}
	}
	return probe{}, false
}

// qualify splits a name as the files write it; unqualified means public,
// the migrations' search_path.
func qualify(name string) (schema, rel string) {
	if s, r, ok := strings.Cut(name, "."); ok {
		return s, r
	}
	return "public", name
}

// probeSQL is, per kind, whether the object exists; it reads the
// catalogue only, which needs no privilege on the object.
var probeSQL = map[string]string{
	"relation": `SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2)`,
	"TYPE":     `SELECT EXISTS (SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = $1 AND t.typname = $2)`,
	"SCHEMA":   `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`,
	"FUNCTION": `SELECT EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1 AND p.proname = $2 AND ($3 = '' OR p.prosrc = $3))`,
}

// exists reports whether the probed object is in the catalogue.
func (p probe) exists(ctx context.Context, db queries.DBTX) (bool, error) {
	var ok bool
	var err error
	switch p.Kind {
	case "SCHEMA":
		err = db.QueryRow(ctx, probeSQL["SCHEMA"], p.Name).Scan(&ok)
	case "TYPE", "DOMAIN":
		err = db.QueryRow(ctx, probeSQL["TYPE"], p.Schema, p.Name).Scan(&ok)
	case "FUNCTION":
		err = db.QueryRow(ctx, probeSQL["FUNCTION"], p.Schema, p.Name, p.Body).Scan(&ok)
	case "QUERY":
		err = db.QueryRow(ctx, p.Body).Scan(&ok)
	default:
		err = db.QueryRow(ctx, probeSQL["relation"], p.Schema, p.Name).Scan(&ok)
	}
	if err != nil {
		return false, fmt.Errorf("look up %s: %w", p, err)
	}
	return ok, nil
}

// inPlace reports whether migration v's probe finds its objects, and the
// probe; a version without a probe or file is never in place.
func inPlace(ctx context.Context, db queries.DBTX, src fs.FS, v uint) (bool, probe, error) {
	paths, err := listPaths(src)
	if err != nil {
		return false, probe{}, err
	}
	pair, ok := paths[v]
	if !ok {
		return false, probe{}, nil
	}
	body, err := fs.ReadFile(src, pair.up)
	if err != nil {
		return false, probe{}, err
	}
	p, ok := probeOf(string(body))
	if !ok {
		return false, p, nil
	}
	found, err := p.exists(ctx, db)
	return found, p, err
}

// dirtyAdvice reads the catalogue to tell what a dirty version really is,
// and words the recovery. Dirty at X means a step to X (an up to X, or a
// down from the migration after X, N) did not finish: if N's objects are
// still there, its down did not commit and the schema is at N; else if X's
// objects are there, the schema is at X (an up that committed, or a down
// from N that did); else the up to X rolled back and the schema is at the
// version before X. The advice forces that version, so the next command
// neither strands objects nor creates them twice.
func dirtyAdvice(ctx context.Context, db queries.DBTX, src fs.FS, st Status) (string, error) {
	x := int(st.Version)
	prev, next, hasNext := nilVersion, 0, false
	for _, m := range st.Migrations {
		switch {
		case int(m.Version) < x:
			prev = int(m.Version)
		case int(m.Version) > x && !hasNext:
			next, hasNext = int(m.Version), true
		}
	}
	if hasNext {
		found, p, err := inPlace(ctx, db, src, uint(next))
		if err != nil {
			return "", err
		}
		if found {
			return fmt.Sprintf("migration %04d is still in place (%s exists): its down did not commit; run `hmperf migrate force %d`, then repeat the down", next, p, next), nil
		}
	}
	found, p, err := inPlace(ctx, db, src, uint(x))
	if err != nil {
		return "", err
	}
	if found {
		return fmt.Sprintf("migration %04d is in place (%s exists) and nothing after it: run `hmperf migrate force %d`, then repeat the command (`hmperf migrate up` goes on)", x, p, x), nil
	}
	missing := p.String() + " does not exist"
	if p.Name == "" {
		// Dirty at "nothing applied" (golang-migrate's -1): no file.
		missing = "no migration has this version"
	}
	return fmt.Sprintf("migration %04d is not in place (%s): it rolled back; fix the cause, run `hmperf migrate force %d`, then `hmperf migrate up`", x, missing, prev), nil
}

// InPlace reports whether the catalogue holds the embedded migration v's
// probe object, and names the probe: what the advice for a dirty database
// reads.
func InPlace(ctx context.Context, db queries.DBTX, v uint) (bool, string, error) {
	ok, p, err := inPlace(ctx, db, FS, v)
	return ok, p.String(), err
}
