package migrations_test

import (
	"context"
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

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
// step relies on: a step runs a file's statements, without its BEGIN and
// COMMIT, in one transaction with the version change, so the file rolls
// back as a whole when a lock wait in it times out (or on an error, Ctrl-C
// or a kill), and the step can simply run again. A second transaction, a
// statement outside BEGIN … COMMIT, or a statement that cannot run in a
// transaction would leave part of a file applied.
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

// TestStepsHoldUsersBriefly applies and reverts hmperf's own migrations on
// the adopted fixture one step at a time, and reports how long each step
// that locks users (a table of its with a foreign key to users) takes: its
// lock on users is held until the step commits. The lock table in
// docs/existing-database.md quotes these figures.
func TestStepsHoldUsersBriefly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := serviceDB(t)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	check, err := migrations.CheckAdoption(ctx, conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := migrations.Adopt(ctx, conn, check); err != nil {
		t.Fatal(err)
	}
	m, err := migrations.New(dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	files, err := migrations.List(migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	var own []migrations.Migration
	for _, f := range files {
		if f.Version > migrations.BaseVersion {
			own = append(own, f)
		}
	}
	for _, f := range own {
		timeStep(t, "up", f, lockedUsers(t, f), func() error { return m.Goto(f.Version) })
	}
	for i := len(own) - 1; i >= 0; i-- {
		below := migrations.BaseVersion
		if i > 0 {
			below = own[i-1].Version
		}
		timeStep(t, "down", own[i], lockedUsers(t, own[i]), func() error { return m.Goto(below) })
	}
}

// lockedUsers reports whether migration f locks users: its up creates, and
// so its down drops, a table with a foreign key to users.
func lockedUsers(t *testing.T, f migrations.Migration) bool {
	t.Helper()
	up, err := fs.ReadFile(migrations.FS, fmt.Sprintf("%04d_%s.up.sql", f.Version, f.Name))
	if err != nil {
		t.Fatal(err)
	}
	return regexp.MustCompile(`(?i)REFERENCES\s+users\b`).Match(lineComment.ReplaceAll(up, nil))
}

// stepLimit is far above what a step takes on the fixture; a step past it
// would hold users for long enough to matter even when nothing blocks it.
const stepLimit = 5 * time.Second

func timeStep(t *testing.T, dir string, f migrations.Migration, locksUsers bool, step func() error) {
	t.Helper()
	start := time.Now()
	if err := step(); err != nil {
		t.Fatalf("%s %04d: %v", dir, f.Version, err)
	}
	took := time.Since(start)
	if locksUsers {
		t.Logf("%-4s %04d_%s: %s with users locked", dir, f.Version, f.Name, took.Round(time.Millisecond))
	}
	if took > stepLimit {
		t.Errorf("%s %04d took %s", dir, f.Version, took)
	}
}
