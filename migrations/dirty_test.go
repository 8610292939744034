package migrations_test

import (
	"io/fs"
	"os"
	"path/filepath"
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

// TestFailedMigrationLeavesDirty: a migration that fails halfway leaves the
// database dirty at its version, Status shows it, nothing of the failed
// (transactional) migration remains, and Force recovers.
func TestFailedMigrationLeavesDirty(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewMigratedDB(t)
	src := withFailing(t)
	files, err := migrations.List(migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	last := files[len(files)-1].Version

	m, err := migrations.New(dsn, src)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Up(); err == nil {
		t.Fatal("up with the failing migration succeeded")
	}
	// The same Migrator must still answer: the failure must not leave its
	// connection in an aborted transaction.
	if st, err := m.Status(); err != nil || !st.Dirty {
		t.Errorf("status on the failed migrator = %+v, %v; want dirty", st, err)
	}
	_ = m.Close()

	m = newMigrator(t, dsn, src)
	st, err := m.Status()
	if err != nil {
		t.Fatalf("status after the failure: %v", err)
	}
	if st.Version != 9000 || !st.Dirty || !st.HasVersion {
		t.Errorf("status after the failure = %+v, want version 9000, dirty", st)
	}
	var failing *migrations.Migration
	for i := range st.Migrations {
		if st.Migrations[i].Version == 9000 {
			failing = &st.Migrations[i]
		}
	}
	if failing == nil || failing.Applied {
		t.Errorf("status lists 9000 as %+v, want present and not applied", failing)
	}

	conn := connect(t, dsn)
	for _, table := range []string{"hmperf_failing_probe", "hmperf_failing_never"} {
		if n := queryInt(t, conn, `SELECT count(*) FROM pg_class WHERE relname = $1`, table); n != 0 {
			t.Errorf("%s survived the failed migration", table)
		}
	}

	if err := m.Force(int(last)); err != nil {
		t.Fatalf("force %d: %v", last, err)
	}
	st, err = m.Status()
	if err != nil {
		t.Fatal(err)
	}
	if st.Version != last || st.Dirty || st.Pending != 1 {
		t.Errorf("status after force = %+v, want version %d, clean, 1 pending", st, last)
	}

	// With the real migrations only, the database is up to date again.
	clean := newMigrator(t, dsn, nil)
	if err := clean.Up(); err != nil {
		t.Errorf("up after force: %v", err)
	}
	if st, err := clean.Status(); err != nil || st.Version != last || st.Dirty || st.Pending != 0 {
		t.Errorf("status after recovery = %+v, %v", st, err)
	}
}
