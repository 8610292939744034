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

// TestDesignsOnServiceDump derives the nutrition_metrics and
// activity_metrics_v2 designs from the service's own CHECKs: nothing
// blocks them, nutrition's CHECKs are all replaced (by a domain or the
// validation function), activity's all but its lists. (cmd/hmperf's
// TestRolloutDesignsOnServiceDump rolls them out and back.)
func TestDesignsOnServiceDump(t *testing.T) {
	t.Parallel()
	b := setup(t, serviceDump(t))
	ctx := context.Background()
	for _, table := range []string{"nutrition_metrics", "activity_metrics_v2"} {
		d, err := rollout.ReadDesign(ctx, b.pool, table)
		if err != nil {
			t.Fatal(err)
		}
		live := count(t, b.pool, "SELECT count(*) FROM pg_constraint WHERE contype = 'c' AND conrelid = 'public."+table+"'::regclass")
		lists := count(t, b.pool, "SELECT count(*) FROM pg_constraint WHERE contype = 'c' AND conrelid = 'public."+table+"'::regclass AND pg_get_constraintdef(oid) LIKE '%= ANY (ARRAY[%'")
		replaced := int64(len(d.Domains))
		if d.Validation != nil {
			replaced += int64(len(d.Validation.Checks))
			t.Logf("%s: %d domains, validation function %s over %d columns replacing %d CHECKs", table, len(d.Domains), d.Validation.Function, len(d.Validation.Columns), len(d.Validation.Checks))
		}
		want := live
		if table == "activity_metrics_v2" {
			want = live - lists
		}
		if len(d.Blockers) != 0 || replaced != want || want == 0 {
			t.Errorf("%s: blockers %q; the design replaces %d of %d live CHECKs (%d lists), want %d", table, d.Blockers, replaced, live, lists, want)
		}
	}
}
