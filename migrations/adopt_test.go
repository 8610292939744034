package migrations_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
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
	pgtest.LoadSQLFile(t, dsn, filepath.Join("testdata", "service_fixture.sql"))
	return dsn
}

// sharedDump is the dump of the service's real database, beside the project
// (present in CI); "" when absent.
func sharedDump() string {
	p := filepath.Join("..", "..", "shared", "fixtures", "original-service", "schema.sql")
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(t *testing.T) string
		want  migrations.State
	}{
		{"empty", func(t *testing.T) string { return pgtest.NewDB(t) }, migrations.StateEmpty},
		{"hmperf", func(t *testing.T) string { return pgtest.NewMigratedDB(t) }, migrations.StateHmperf},
		{"service fixture", serviceDB, migrations.StateForeign},
		{"service tables without a version table", func(t *testing.T) string {
			dsn := serviceDB(t)
			exec(t, connect(t, dsn), "DROP TABLE _sqlx_migrations")
			return dsn
		}, migrations.StateForeign},
		{"dirty", func(t *testing.T) string {
			dsn := pgtest.NewMigratedDB(t)
			exec(t, connect(t, dsn), "UPDATE hmperf.schema_migrations SET dirty = true")
			return dsn
		}, migrations.StateDirty},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st, err := migrations.ReadStatus(testCtx(t), connect(t, tc.setup(t)), nil)
			if err != nil {
				t.Fatal(err)
			}
			if st.State != tc.want {
				t.Fatalf("state %q (%s), want %q", st.State, st.Summary, tc.want)
			}
			if st.Next == "" {
				t.Errorf("state %q says nothing about what to do next", st.State)
			}
		})
	}
}

// TestMigratorRefusesForeign: a Migrator on the service's database would
// create its version table and then fail on 0001; it must refuse before
// writing anything.
func TestMigratorRefusesForeign(t *testing.T) {
	t.Parallel()
	dsn := serviceDB(t)
	before := pgtest.SchemaDump(t, dsn)
	_, err := migrations.New(dsn, nil)
	if !errors.Is(err, migrations.ErrForeign) {
		t.Fatalf("open on the service's database: %v, want ErrForeign", err)
	}
	if !strings.Contains(err.Error(), "hmperf migrate adopt") {
		t.Errorf("the refusal does not name the fix: %v", err)
	}
	if after := pgtest.SchemaDump(t, dsn); after != before {
		t.Error("the refused open changed the schema")
	}
}

func TestCheckAdoptionListsDifferences(t *testing.T) {
	t.Parallel()
	dsn := serviceDB(t)
	check, err := migrations.CheckAdoption(testCtx(t), connect(t, dsn), nil)
	if err != nil {
		t.Fatal(err)
	}
	if check.Foreign.Tool != "sqlx" || check.Foreign.Migrations != 17 {
		t.Errorf("foreign tool %+v, want sqlx with 17 migrations", check.Foreign)
	}
	want := []string{
		"users.email: expected text, found character varying(255) NOT NULL no default",
		"heart_rate_metrics.id: expected bigint NOT NULL, found uuid NOT NULL",
		"heart_rate_metrics.source: expected character varying(100), found missing",
		"heart_rate_metrics.source_device: expected absent, found character varying(100)",
		"heart_rate_metrics.heart_rate_variability: expected numeric(8,2), found missing",
		"workouts.avg_heart_rate: expected integer, found missing",
		"sleep_metrics.efficiency: expected numeric(5,2), found missing",
	}
	var got []string
	for _, d := range check.Differences {
		got = append(got, d.String())
		if d.Blocking {
			t.Errorf("unexpected blocking difference %s", d)
		}
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("difference %q not listed; got:\n%s", w, strings.Join(got, "\n"))
		}
	}
	// The scratch schema used to build the expected layout never stays.
	var n int
	if err := connect(t, dsn).QueryRow(testCtx(t), "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'hmperf%'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("checking left %d hmperf schema(s) behind", n)
	}
}

func TestCheckAdoptionBlocksMissingKey(t *testing.T) {
	t.Parallel()
	dsn := serviceDB(t)
	conn := connect(t, dsn)
	exec(t, conn, "DROP TABLE workouts")
	exec(t, conn, "ALTER TABLE heart_rate_metrics DROP COLUMN recorded_at")
	check, err := migrations.CheckAdoption(testCtx(t), conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	var blocking []string
	for _, d := range check.Blocking() {
		blocking = append(blocking, d.String())
	}
	want := []string{
		"heart_rate_metrics.recorded_at: expected timestamp with time zone NOT NULL no default, found missing",
		"workouts: expected table, found missing",
	}
	if !slices.Equal(blocking, want) {
		t.Fatalf("blocking differences:\n%s\nwant:\n%s", strings.Join(blocking, "\n"), strings.Join(want, "\n"))
	}
	if err := migrations.Adopt(testCtx(t), conn, check); err == nil {
		t.Fatal("Adopt accepted blocking differences")
	}
	var exists bool
	if err := conn.QueryRow(testCtx(t), "SELECT to_regnamespace('hmperf') IS NOT NULL").Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Error("a refused adoption created schema hmperf")
	}
}

func TestAdoptUpDownOnFixture(t *testing.T) {
	t.Parallel()
	adoptRoundTrip(t, serviceDB(t))
}

// TestAdoptUpDownOnServiceDump runs the same round trip on the dump of the
// service's real database, where it is present (CI has it).
func TestAdoptUpDownOnServiceDump(t *testing.T) {
	t.Parallel()
	dump := sharedDump()
	if dump == "" {
		t.Skip("the service's dump (../shared/fixtures/original-service) is not beside the project")
	}
	dsn := pgtest.NewDB(t)
	pgtest.LoadServiceDump(t, dsn, dump)
	adoptRoundTrip(t, dsn)
}

// adoptRoundTrip adopts the service's database, applies hmperf's
// migrations, checks that the service's own objects still work and that
// hmperf never reverts them, then removes everything hmperf added and
// compares the schema with how it was found.
func adoptRoundTrip(t *testing.T, dsn string) {
	ctx := testCtx(t)
	before := pgtest.SchemaDump(t, dsn)
	conn := connect(t, dsn)
	check, err := migrations.CheckAdoption(ctx, conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := migrations.Adopt(ctx, conn, check); err != nil {
		t.Fatal(err)
	}
	m := newMigrator(t, dsn, nil)
	if err := m.Up(); err != nil {
		t.Fatalf("up after adopt: %v", err)
	}
	st, err := m.Status()
	if err != nil {
		t.Fatal(err)
	}
	last := st.Migrations[len(st.Migrations)-1].Version
	if st.State != migrations.StateHmperf || !st.Adopted() || st.Version != last || st.Pending != 0 {
		t.Fatalf("after adopt and up: state %q adopted %v version %d pending %d, want hmperf, adopted, %d, 0",
			st.State, st.Adopted(), st.Version, st.Pending, last)
	}
	// The service's own partition maintenance still resolves: hmperf's
	// helpers live in their own schema and overload nothing. It runs in a
	// transaction that is rolled back: in a month the dump did not foresee
	// it creates the next partition, and the test must not change the
	// schema it compares.
	checkRolledBack(t, conn, "SELECT maintain_partitions()")
	var registered int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM hmperf.partition_maintenance
		WHERE parent_table IN ('activity_metrics_v2', 'nutrition_metrics', 'symptoms')`).Scan(&registered); err != nil {
		t.Fatal(err)
	}
	if registered != 0 {
		t.Errorf("hmperf registered %d of the service's tables for its own partition maintenance", registered)
	}
	if err := m.Down(len(st.Migrations)); err == nil {
		t.Fatal("down below the adopted base was accepted")
	}
	if err := m.Goto(1); err == nil {
		t.Fatal("goto below the adopted base was accepted")
	}
	if err := m.DownAll(); err != nil {
		t.Fatalf("down --all: %v", err)
	}
	if after := pgtest.SchemaDump(t, dsn); after != before {
		t.Errorf("the schema after adopt, up and down --all differs from before adopt:\n%s", firstDiff(before, after))
	}
}

// firstDiff shows the first line where two dumps differ, with context.
func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		if i >= len(al) || i >= len(bl) || al[i] != bl[i] {
			lo := max(0, i-3)
			return "before:\n" + strings.Join(al[lo:min(len(al), i+4)], "\n") + "\nafter:\n" + strings.Join(bl[lo:min(len(bl), i+4)], "\n")
		}
	}
	return ""
}
