package dashsource

import (
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// enumSet is the string constants of one enum, read from a package's
// source: those declared with the type named typ, or, with typ "", every
// constant in the const block that declares member. Reading the source,
// not a hand-kept list, is what makes a constant added later part of it.
func enumSet(t *testing.T, dir, typ, member string) map[string]string {
	t.Helper()
	fset := token.NewFileSet()
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			if gd, ok := decl.(*ast.GenDecl); ok && gd.Tok == token.CONST {
				collect(t, gd, typ, member, out)
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s: no constants of %q (block of %q)", dir, typ, member)
	}
	return out
}

// collect adds gd's string constants of type typ, or all of them when typ
// is "" and gd declares member, to out (name to value).
func collect(t *testing.T, gd *ast.GenDecl, typ, member string, out map[string]string) {
	t.Helper()
	group := map[string]string{}
	declares := false
	for _, spec := range gd.Specs {
		vs := spec.(*ast.ValueSpec)
		id, typed := vs.Type.(*ast.Ident)
		for i, name := range vs.Names {
			declares = declares || name.Name == member
			if i >= len(vs.Values) {
				continue
			}
			lit, ok := vs.Values[i].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING || typ != "" && (!typed || id.Name != typ) {
				continue
			}
			v, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatal(err)
			}
			group[name.Name] = v
		}
	}
	if typ != "" || declares {
		maps.Copy(out, group)
	}
}

// TestEnumsAgree: the dashboard's severities, benchmark variants, verdicts
// and index statuses are the query side's, value for value, so a new one on
// either side fails here instead of crossing the string casts in db.go
// unseen.
func TestEnumsAgree(t *testing.T) {
	t.Parallel()
	const queriesDir, viewDir = "../../../queries/", "../../../tui/source"
	for _, tc := range []struct {
		name      string
		query     map[string]string
		view      map[string]string
		notStored []string // query constants that are outcomes, never a stored value
	}{
		{name: "alert severity", query: enumSet(t, queriesDir+"monitor", "Severity", ""), view: enumSet(t, viewDir, "Severity", "")},
		{name: "benchmark variant", query: enumSet(t, queriesDir+"bench", "Variant", ""), view: enumSet(t, viewDir, "Variant", "")},
		{name: "verdict", query: enumSet(t, queriesDir+"bench", "Outcome", ""), view: enumSet(t, viewDir, "", "Holds")},
		{name: "index job status", query: enumSet(t, queriesDir+"indexq", "", "Pending"), view: enumSet(t, viewDir, "IndexStatus", ""),
			notStored: []string{"Postponed", "Busy"}},
	} {
		for _, name := range tc.notStored {
			delete(tc.query, name)
		}
		q, v := slices.Sorted(maps.Values(tc.query)), slices.Sorted(maps.Values(tc.view))
		if !slices.Equal(q, v) {
			t.Errorf("%s: the query side has %q, the dashboard %q", tc.name, q, v)
		}
	}
}
