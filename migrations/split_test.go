package migrations

import (
	"io/fs"
	"strings"
	"testing"
)

// TestSplitStatements: semicolons inside quotes, dollar quotes and
// comments do not end a statement; each statement knows the line its code
// starts on, past the comments before it.
func TestSplitStatements(t *testing.T) {
	sql := "-- header; not a statement\nBEGIN;\n\n" +
		"CREATE FUNCTION f() RETURNS text AS $body$\nBEGIN\n  RETURN 'a;b';\nEND;\n$body$ LANGUAGE plpgsql;\n" +
		"/* block; comment */ SELECT E'it\\'s;', 'x''y;', \"odd;name\" FROM t;\n" +
		"-- a comment on the next\nSELECT $$;$$, $1::int;\n" +
		"COMMIT;\n-- trailing comment;\n"
	got := splitStatements(sql)
	want := []struct {
		line  int
		first string
	}{
		{2, "BEGIN;"},
		{4, "CREATE FUNCTION f() RETURNS text AS $body$"},
		{9, "/* block; comment */ SELECT E'it\\'s;', 'x''y;', \"odd;name\" FROM t;"},
		{11, "SELECT $$;$$, $1::int;"},
		{12, "COMMIT;"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d statements, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		if got[i].Line != w.line || got[i].FirstLine() != w.first {
			t.Errorf("statement %d: line %d %q, want line %d %q", i, got[i].Line, got[i].FirstLine(), w.line, w.first)
		}
	}
	stmts, err := stepStatements("x.up.sql", sql)
	if err != nil || len(stmts) != 3 {
		t.Errorf("without BEGIN/COMMIT: %d statements, %v; want 3", len(stmts), err)
	}
	// A statement after COMMIT would run in a transaction of its own.
	if _, err := stepStatements("x.up.sql", "BEGIN;\nSELECT 1;\nCOMMIT;\nSELECT 2;\n"); err == nil || !strings.Contains(err.Error(), "x.up.sql line ") {
		t.Errorf("a statement after COMMIT: %v, want a refusal naming the file and line", err)
	}
	if _, err := stepStatements("x.up.sql", "BEGIN;\nSELECT 1;\nCOMMIT;\nBEGIN;\nSELECT 2;\nCOMMIT;\n"); err == nil || !strings.Contains(err.Error(), "x.up.sql line 3") {
		t.Errorf("two transactions: %v, want a refusal naming line 3", err)
	}
}

// TestEveryFileSplits: every shipped file splits into statements that,
// with the comments and blanks between them, hold all of its text.
func TestEveryFileSplits(t *testing.T) {
	names, err := fs.Glob(FS, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		body, _ := fs.ReadFile(FS, name)
		stmts, err := stepStatements(name, string(body))
		if err != nil || len(stmts) == 0 {
			t.Errorf("%s: %d statements, %v", name, len(stmts), err)
			continue
		}
		rest := string(body)
		for _, s := range stmts {
			i := strings.Index(rest, s.SQL)
			if i < 0 {
				t.Errorf("%s: statement at line %d is not the file's text", name, s.Line)
				break
			}
			if gap := strings.TrimSpace(lineComment(rest[:i])); gap != "" && !txStart.MatchString(gap) {
				t.Errorf("%s: text before line %d belongs to no statement: %.60q", name, s.Line, gap)
			}
			rest = rest[i+len(s.SQL):]
		}
	}
}

// lineComment drops -- comments, line by line.
func lineComment(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if i := strings.Index(l, "--"); i >= 0 {
			l = l[:i]
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}
