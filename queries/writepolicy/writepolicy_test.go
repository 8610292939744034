package writepolicy_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"hmperf/migrations"
	"hmperf/queries/ingest"
	"hmperf/queries/pgtest"
	"hmperf/queries/writepolicy"
)

// TestOurs: only a database hmperf manages and did not adopt is its own.
func TestOurs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		st   migrations.Status
		want bool
	}{
		{"hmperf's", migrations.Status{Classification: migrations.Classification{State: migrations.StateHmperf}}, true},
		{"adopted", migrations.Status{Classification: migrations.Classification{State: migrations.StateHmperf, Adoption: &migrations.Adoption{}}}, false},
		{"another tool's", migrations.Status{Classification: migrations.Classification{State: migrations.StateForeign}}, false},
		{"empty", migrations.Status{Classification: migrations.Classification{State: migrations.StateEmpty}}, false},
		{"dirty", migrations.Status{Classification: migrations.Classification{State: migrations.StateDirty}}, false},
	} {
		if got := writepolicy.Ours(tc.st); got != tc.want {
			t.Errorf("%s: Ours = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestWritable: a migrated primary may be written and takes generated rows
// live; an empty database is refused, naming the fix, and its generated
// rows would go to the sandbox.
func TestWritable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		dsn     func(testing.TB) string
		refused string // a part of the refusal, "" for none
		target  ingest.Target
	}{
		{"migrated", pgtest.NewMigratedDB, "", ingest.Live},
		{"empty", pgtest.NewDB, "refusing to write: this database is", ingest.Sandbox},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := pgx.Connect(ctx, tc.dsn(t))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			if err := writepolicy.RefuseReplica(ctx, conn); err != nil {
				t.Errorf("RefuseReplica on a primary: %v", err)
			}
			err = writepolicy.CheckWritable(ctx, conn)
			if (tc.refused == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.refused) {
				t.Errorf("CheckWritable = %v, want refusal %q", err, tc.refused)
			}
			if errors.Is(err, writepolicy.ErrReplica) {
				t.Errorf("a primary refused as a replica: %v", err)
			}
			got, err := writepolicy.Generated(ctx, conn)
			if err != nil || got != tc.target {
				t.Errorf("Generated = %v, %v; want %v", got, err, tc.target)
			}
		})
	}
}
