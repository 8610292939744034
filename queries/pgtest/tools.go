package pgtest

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"hmperf/queries/pglaunch"
)

// tool returns the path of one of PostgreSQL's client programs, from the same
// installation the tests' server runs from, else from PATH. Server binaries
// fetched by pglaunch hold no client programs.
func tool(t testing.TB, name string) string {
	t.Helper()
	dir, err := pglaunch.FindBinDir()
	if err == nil {
		return filepath.Join(dir, name)
	}
	if p, lerr := exec.LookPath(name); lerr == nil {
		return p
	}
	t.Fatalf("this test runs %s, a PostgreSQL client program, and none is installed (the server binaries hmperf fetches include none): install PostgreSQL's client package", name)
	return ""
}

// LoadSQLFile runs a SQL script (psql syntax, as pg_dump writes it) into the
// database dsn names, stopping at the first error.
func LoadSQLFile(t testing.TB, dsn, path string) {
	t.Helper()
	cmd := exec.Command(tool(t, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-f", path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("load %s: %v: %s", filepath.Base(path), err, out)
	}
}

// restrictLine matches the \restrict and \unrestrict lines that pg_dump
// writes with a random key each run.
var restrictLine = regexp.MustCompile(`(?m)^\\(un)?restrict .*\n`)

// SchemaDump returns `pg_dump --schema-only` of the database, with the lines
// that differ between two dumps of the same schema removed.
func SchemaDump(t testing.TB, dsn string) string {
	t.Helper()
	cmd := exec.Command(tool(t, "pg_dump"), "--schema-only", "--no-owner", "-d", dsn)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pg_dump: %v: %s", err, stderr.Bytes())
	}
	return restrictLine.ReplaceAllString(string(out), "")
}

// LoadServiceDump loads a dump of the service's database and then runs the
// service's own partition maintenance, as its scheduler does every day, so
// the database has the partitions the service would have on the day the
// test runs rather than on the day the dump was taken.
func LoadServiceDump(t testing.TB, dsn, path string) {
	t.Helper()
	LoadSQLFile(t, dsn, path)
	maintain := `DO $$ BEGIN
		IF to_regprocedure('public.maintain_partitions()') IS NOT NULL THEN PERFORM public.maintain_partitions(); END IF;
	END $$`
	cmd := exec.Command(tool(t, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-c", maintain)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("maintain the partitions of %s: %v: %s", filepath.Base(path), err, out)
	}
}

// WithoutAutovacuum turns autovacuum off on every table of schema public,
// for tests that count rolled-back rows from the statistics: a VACUUM or
// ANALYZE in the interval makes the split unknowable (the sampler then says
// so), and whether one lands in a test's few seconds is up to the server's
// schedule, not to the test.
func WithoutAutovacuum(t testing.TB, dsn string) {
	t.Helper()
	off := `DO $$ DECLARE r regclass; BEGIN
		FOR r IN SELECT c.oid FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' LOOP
			EXECUTE format('ALTER TABLE %s SET (autovacuum_enabled = off)', r);
		END LOOP;
	END $$`
	cmd := exec.Command(tool(t, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-c", off)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("turn autovacuum off: %v: %s", err, out)
	}
}
