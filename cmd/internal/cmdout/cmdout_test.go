package cmdout

import (
	"testing"

	"hmperf/migrations"
)

// TestOrUnknown: a figure nothing measured is "unknown", never 0.
func TestOrUnknown(t *testing.T) {
	zero, v := 0.0, 12.345
	for _, tc := range []struct {
		in   *float64
		prec int
		want string
	}{{nil, 1, "unknown"}, {&zero, 1, "0.0"}, {&v, 2, "12.35"}} {
		if got := orUnknown(tc.in, tc.prec); got != tc.want {
			t.Errorf("orUnknown(%v, %d) = %q, want %q", tc.in, tc.prec, got, tc.want)
		}
	}
}

// TestMigrationState: adopted base migrations, applied, the dirty one and
// pending ones are told apart.
func TestMigrationState(t *testing.T) {
	adopted := migrations.Status{Classification: migrations.Classification{Adoption: &migrations.Adoption{}}}
	dirty := migrations.Status{Version: 20, Dirty: true}
	for _, tc := range []struct {
		st   migrations.Status
		mg   migrations.Migration
		want string
	}{
		{adopted, migrations.Migration{Version: migrations.BaseVersion, Applied: true}, "adopted (the service's, not run by hmperf)"},
		{adopted, migrations.Migration{Version: migrations.BaseVersion + 1, Applied: true}, "applied"},
		{dirty, migrations.Migration{Version: 20}, "FAILED (dirty)"},
		{dirty, migrations.Migration{Version: 21}, "pending"},
	} {
		if got := migrationState(tc.st, tc.mg); got != tc.want {
			t.Errorf("migrationState(%+v) = %q, want %q", tc.mg, got, tc.want)
		}
	}
}
