package rollout_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"hmperf/queries/pgtest"
	"hmperf/queries/rollout"
)

// serviceDump returns a database loaded from the dump of the service's
// own database, or skips where the dump is not beside the project.
func serviceDump(t *testing.T) string {
	t.Helper()
	dump := filepath.Join("..", "..", "..", "shared", "fixtures", "original-service", "schema.sql")
	if _, err := os.Stat(dump); err != nil {
		t.Skip("the service's dump (../shared/fixtures/original-service) is not beside the project")
	}
	dsn := pgtest.NewDB(t)
	pgtest.LoadServiceDump(t, dsn, dump)
	return dsn
}

// TestDesignOfServiceDump derives the twin of the service's symptoms from
// its live CHECKs: two enums, with the CHECKs' lists in their order.
func TestDesignOfServiceDump(t *testing.T) {
	t.Parallel()
	b := setup(t, serviceDump(t))
	d, err := rollout.ReadDesign(context.Background(), b.pool, "symptoms")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, e := range d.Enums {
		got[e.Column] = len(e.Labels)
	}
	if got["symptom_type"] != 68 || got["severity"] != 4 || len(got) != 2 {
		t.Errorf("enums of the service's symptoms: %v, want symptom_type with 68 values and severity with 4", got)
	}
	for _, blocker := range d.Blockers {
		if blocker != "" {
			t.Logf("blocker: %s", blocker)
		}
	}
}
