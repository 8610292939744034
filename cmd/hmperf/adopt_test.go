package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"hmperf/migrations"
	"hmperf/queries/pgtest"
)

// serviceDB returns a database laid out as the ingest service lays it out,
// from the project's own fixture.
func serviceDB(t *testing.T) string {
	t.Helper()
	dsn := pgtest.NewDB(t)
	pgtest.LoadSQLFile(t, dsn, filepath.Join("..", "..", "migrations", "testdata", "service_fixture.sql"))
	return dsn
}

func statusJSON(t *testing.T, dsn string) migrations.Status {
	t.Helper()
	r := runCmd(context.Background(), "", "migrate", "status", "--json", "--dsn", dsn)
	var st migrations.Status
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		t.Fatalf("migrate status --json: exit %d, %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	return st
}

// TestAdoptFromTheCommandLine walks the path a DBA takes on the service's
// database: status names the other tool, up refuses and points at adopt,
// adopt lists the differences and brings the schema to hmperf's latest
// version, and down --all leaves the schema as it was found.
func TestAdoptFromTheCommandLine(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := serviceDB(t)
	before := pgtest.SchemaDump(t, dsn)

	if st := statusJSON(t, dsn); st.State != migrations.StateForeign || !strings.Contains(st.Summary, "managed by another tool (sqlx") {
		t.Fatalf("status before adopt: state %q, %q", st.State, st.Summary)
	}
	r := runCmd(ctx, "", "migrate", "up", "--yes", "--dsn", dsn)
	if r.code == 0 || !strings.Contains(r.stderr, "hmperf migrate adopt") || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("up on the service's database: exit %d, want one line naming migrate adopt:\n%s", r.code, r.stderr)
	}
	if after := pgtest.SchemaDump(t, dsn); after != before {
		t.Fatal("the refused up changed the schema")
	}
	if r := runCmd(ctx, "", "migrate", "adopt", "--dsn", dsn); r.code == 0 || !strings.Contains(r.stderr, "--yes") {
		t.Fatalf("adopt without confirmation: exit %d, %s", r.code, r.stderr)
	}
	r = runCmd(ctx, "", "migrate", "adopt", "--yes", "--dsn", dsn)
	if r.code != 0 {
		t.Fatalf("adopt: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	files, err := migrations.List(migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	latest := files[len(files)-1].Version
	for _, want := range []string{"heart_rate_metrics      source_device", "users                   email", fmt.Sprintf("schema version %d", latest)} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("adopt output lacks %q:\n%s", want, r.stdout)
		}
	}
	st := statusJSON(t, dsn)
	if st.State != migrations.StateHmperf || st.Adoption == nil || st.Version != latest || st.Pending != 0 {
		t.Fatalf("status after adopt: state %q adopted %v version %d pending %d", st.State, st.Adoption != nil, st.Version, st.Pending)
	}
	// Adopt again (as after a kill past its last step) has nothing to do,
	// says so, and succeeds: a script that retries it ends as the first
	// run did.
	adopted := pgtest.SchemaDump(t, dsn)
	if r := runCmd(ctx, "", "migrate", "adopt", "--yes", "--dsn", dsn); r.code != 0 || !strings.Contains(r.stdout, "nothing to adopt") {
		t.Fatalf("second adopt: exit %d, %s%s", r.code, r.stdout, r.stderr)
	}
	if again := pgtest.SchemaDump(t, dsn); again != adopted {
		t.Fatal("the second adopt changed the schema")
	}
	if r := runCmd(ctx, "", "migrate", "down", "--all", "--yes", "--dsn", dsn); r.code != 0 {
		t.Fatalf("down --all: exit %d, %s", r.code, r.stderr)
	}
	if after := pgtest.SchemaDump(t, dsn); after != before {
		t.Error("the schema after adopt and down --all differs from before adopt")
	}
}
