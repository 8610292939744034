package migrations_test

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"hmperf/migrations"
	"hmperf/queries/pgtest"
)

// withFailing returns the embedded migrations plus the test-only migration in
// testdata/failing, as one fs.FS (the embedded files are referenced, not
// copied on disk).
func withFailing(t *testing.T) fs.FS {
	t.Helper()
	mfs := fstest.MapFS{}
	entries, err := fs.ReadDir(migrations.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := fs.ReadFile(migrations.FS, e.Name())
		if err != nil {
			t.Fatal(err)
		}
		mfs[e.Name()] = &fstest.MapFile{Data: data}
	}
	extra, err := filepath.Glob(filepath.Join("testdata", "failing", "*.sql"))
	if err != nil || len(extra) != 2 {
		t.Fatalf("testdata/failing: %v %v", extra, err)
	}
	for _, p := range extra {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		mfs[filepath.Base(p)] = &fstest.MapFile{Data: data}
	}
	return mfs
}

// TestFailedMigrationStaysClean: a migration that fails halfway rolls back
// with its version: the database stays clean at the version before, nothing
// of the failed file remains, and the error names the file, the line and
// the statement in one line, never the whole file.
func TestFailedMigrationStaysClean(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewMigratedDB(t)
	src := withFailing(t)
	files, err := migrations.List(migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	last := files[len(files)-1].Version

	m := newMigrator(t, dsn, src)
	err = m.Up()
	if err == nil {
		t.Fatal("up with the failing migration succeeded")
	}
	msg := err.Error()
	for _, want := range []string{"9000_fails_halfway.up.sql line 10", "SELECT 1 / 0;", "division by zero"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q: %s", want, msg)
		}
	}
	if strings.Contains(msg, "\n") || len(msg) > 300 {
		t.Errorf("error is not one short line (%d bytes): %s", len(msg), msg)
	}
	// The same Migrator must still answer: the failure must not leave its
	// connection in an aborted transaction.
	st, err := m.Status()
	if err != nil {
		t.Fatalf("status after the failure: %v", err)
	}
	if st.Version != last || st.Dirty || st.State != migrations.StateHmperf || st.Pending != 1 {
		t.Errorf("status after the failure = version %d dirty %v state %s pending %d, want %d clean, 9000 pending", st.Version, st.Dirty, st.State, st.Pending, last)
	}
	conn := connect(t, dsn)
	for _, table := range []string{"hmperf_failing_probe", "hmperf_failing_never"} {
		if n := queryInt(t, conn, `SELECT count(*) FROM pg_class WHERE relname = $1`, table); n != 0 {
			t.Errorf("%s survived the failed migration", table)
		}
	}
	// With the real migrations only, the database is up to date.
	if st, err := newMigrator(t, dsn, nil).Status(); err != nil || st.Version != last || st.Dirty || st.Pending != 0 {
		t.Errorf("status with the real files = %+v, %v", st, err)
	}
}

// TestDirtyAdviceReadsTheCatalogue: a database left dirty by an older
// hmperf or another tool, in each direction and with the step's objects
// present or not, is told the version its catalogue is really at; following
// the advice (force, then the command again) ends with the schema of a
// clean run, nothing stranded and nothing created twice.
func TestDirtyAdviceReadsTheCatalogue(t *testing.T) {
	t.Parallel()
	files, err := migrations.List(migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	n := len(files)
	last, prev, before := files[n-1].Version, files[n-2].Version, files[n-3].Version
	for _, tc := range []struct {
		name string
		// at is where the schema really is; dirty is the recorded version.
		at, dirty uint
		force     uint
		then      string
	}{
		// An up to last that committed; the mark stayed dirty.
		{"up committed", last, last, last, "up"},
		// An up to last that rolled back.
		{"up rolled back", prev, last, prev, "up"},
		// A down from last (marked dirty at prev) that did not commit.
		{"down rolled back", last, prev, last, "down"},
		// A down from last that committed.
		{"down committed", prev, prev, prev, "down"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dsn := pgtest.NewMigratedDB(t)
			m := newMigrator(t, dsn, nil)
			if err := m.Goto(tc.at); err != nil {
				t.Fatal(err)
			}
			conn := connect(t, dsn)
			exec(t, conn, "UPDATE hmperf.schema_migrations SET version = $1, dirty = true", int64(tc.dirty))
			st, err := m.Status()
			if err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf("`hmperf migrate force %d`", tc.force)
			if st.State != migrations.StateDirty || !strings.Contains(st.Next, want) {
				t.Fatalf("dirty at %d with the schema at %d: state %s, advice %q; want %s", tc.dirty, tc.at, st.State, st.Next, want)
			}
			if err := m.Up(); err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("up on the dirty database: %v; want a refusal with %s", err, want)
			}
			if err := m.Force(int(tc.force)); err != nil {
				t.Fatal(err)
			}
			target := last
			if tc.then == "down" {
				target = before
			}
			if err := m.Goto(target); err != nil {
				t.Fatalf("after the advice, %s to %d: %v", tc.then, target, err)
			}
			got := pgtest.SchemaDump(t, dsn)
			ref := pgtest.NewMigratedDB(t)
			if err := newMigrator(t, ref, nil).Goto(target); err != nil {
				t.Fatal(err)
			}
			if want := pgtest.SchemaDump(t, ref); got != want {
				t.Errorf("schema after following the advice differs from a clean run at %d", target)
			}
		})
	}
}

// TestEveryMigrationHasAProbe: the probe the dirty advice reads for each
// migration finds it in place right after it is applied, and the probe of
// the migration after it does not: what dirtyAdvice's three cases rely on.
// Walked on a fresh database and on the adopted service fixture.
func TestEveryMigrationHasAProbe(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		dsn  func(t *testing.T) string
	}{
		{"fresh", func(t *testing.T) string { return pgtest.NewDB(t) }},
		{"adopted", adoptedServiceDB},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dsn := tc.dsn(t)
			m := newMigrator(t, dsn, nil)
			conn := connect(t, dsn)
			st, err := m.Status()
			if err != nil {
				t.Fatal(err)
			}
			for i, f := range st.Migrations {
				if f.Applied {
					continue
				}
				if err := m.Goto(f.Version); err != nil {
					t.Fatal(err)
				}
				if ok, p, err := migrations.InPlace(testCtx(t), conn, f.Version); err != nil || !ok {
					t.Errorf("at %04d its probe (%s) finds nothing: %v", f.Version, p, err)
				}
				if i+1 < len(st.Migrations) {
					next := st.Migrations[i+1].Version
					if ok, p, err := migrations.InPlace(testCtx(t), conn, next); err != nil || ok {
						t.Errorf("at %04d the probe of %04d (%s) finds it already: %v", f.Version, next, p, err)
					}
				}
			}
		})
	}
}

// adoptedServiceDB is the service fixture, adopted (at BaseVersion).
func adoptedServiceDB(t *testing.T) string {
	t.Helper()
	dsn := serviceDB(t)
	conn := connect(t, dsn)
	check, err := migrations.CheckAdoption(testCtx(t), conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := migrations.Adopt(testCtx(t), conn, check); err != nil {
		t.Fatal(err)
	}
	return dsn
}
