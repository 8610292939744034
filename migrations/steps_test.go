package migrations_test

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"hmperf/migrations"
)

var (
	lineComment = regexp.MustCompile(`(?m)--.*$`)
	txBegin     = regexp.MustCompile(`(?m)^\s*BEGIN\s*;\s*$`)
	txCommit    = regexp.MustCompile(`(?m)^\s*COMMIT\s*;\s*$`)
	// noTx are statements PostgreSQL refuses inside a transaction.
	noTx = regexp.MustCompile(`(?im)^\s*(CREATE|DROP|REINDEX)\b[^;]*\bCONCURRENTLY\b|^\s*VACUUM\b|^\s*(CREATE|DROP)\s+DATABASE\b`)
)

// TestEveryFileIsOneTransaction holds the migration files to what the
// retry after a lock timeout relies on: golang-migrate runs a file as one
// multi-statement Exec, so a file that is one BEGIN … COMMIT (or has no
// transaction control, one implicit transaction) rolls back as a whole
// when a lock wait in it times out, and the step can simply run again. A
// second transaction, a statement outside BEGIN … COMMIT, or a statement
// that cannot run in a transaction would leave part of a file applied.
func TestEveryFileIsOneTransaction(t *testing.T) {
	names, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("migration files: %v (%d)", err, len(names))
	}
	for _, name := range names {
		body, err := fs.ReadFile(migrations.FS, name)
		if err != nil {
			t.Fatal(err)
		}
		sql := lineComment.ReplaceAllString(string(body), "")
		begins, commits := txBegin.FindAllStringIndex(sql, -1), txCommit.FindAllStringIndex(sql, -1)
		switch {
		case len(begins) != len(commits) || len(begins) > 1:
			t.Errorf("%s: %d BEGIN and %d COMMIT; want one transaction", name, len(begins), len(commits))
		case len(begins) == 1:
			if before := strings.TrimSpace(sql[:begins[0][0]]); before != "" {
				t.Errorf("%s: statements before BEGIN: %.60q", name, before)
			}
			if after := strings.TrimSpace(sql[commits[0][1]:]); after != "" {
				t.Errorf("%s: statements after COMMIT: %.60q", name, after)
			}
		}
		if m := noTx.FindString(sql); m != "" {
			t.Errorf("%s: %q cannot run in the file's transaction (CREATE INDEX CONCURRENTLY belongs in the index worker)", name, strings.TrimSpace(m))
		}
	}
}
