package catalog_test

import (
	"context"
	"os"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"hmperf/queries/catalog"
	"hmperf/queries/pgtest"
)

// TestMissingKeys: the metric tables without a unique index on their
// natural key are named with the index that would enforce it and the
// index that serves ingest's anti-join meanwhile; nothing is created.
func TestMissingKeys(t *testing.T) {
	t.Parallel()
	hrKey := []string{"user_id", "recorded_at"}
	tests := []struct {
		name  string
		db    func(*testing.T) *pgxpool.Pool
		setup string
		want  []catalog.MissingKey
	}{
		{name: "hmperf's own tables", db: func(t *testing.T) *pgxpool.Pool { return open(t, pgtest.NewMigratedDB(t)) }},
		{name: "service layout", db: serviceDB, want: []catalog.MissingKey{{Table: "public.heart_rate_metrics", Key: hrKey,
			Index:    `CREATE UNIQUE INDEX CONCURRENTLY "heart_rate_metrics_user_id_recorded_at_key" ON "public"."heart_rate_metrics" ("user_id", "recorded_at")`,
			ServedBy: "idx_heart_rate_user_recorded", Covered: 2}}},
		{name: "service layout, no index on the key", db: serviceDB, setup: "DROP INDEX idx_heart_rate_user_recorded; CREATE INDEX hr_user ON heart_rate_metrics (user_id, heart_rate)",
			want: []catalog.MissingKey{{Table: "public.heart_rate_metrics", Key: hrKey,
				Index:    `CREATE UNIQUE INDEX CONCURRENTLY "heart_rate_metrics_user_id_recorded_at_key" ON "public"."heart_rate_metrics" ("user_id", "recorded_at")`,
				ServedBy: "hr_user", Covered: 1}}},
		{name: "service layout, key enforced", db: serviceDB, setup: "CREATE UNIQUE INDEX ON heart_rate_metrics (recorded_at, user_id)"},
	}
	if _, err := os.Stat(serviceDump); err == nil {
		tests = append(tests, struct {
			name  string
			db    func(*testing.T) *pgxpool.Pool
			setup string
			want  []catalog.MissingKey
		}{name: "service dump", db: dumpDB, want: []catalog.MissingKey{{Table: "public.heart_rate_metrics", Key: hrKey,
			Index:    `CREATE UNIQUE INDEX CONCURRENTLY "heart_rate_metrics_user_id_recorded_at_key" ON "public"."heart_rate_metrics" ("user_id", "recorded_at")`,
			ServedBy: "idx_heart_rate_user_recorded", Covered: 2}}})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			pool := tt.db(t)
			if tt.setup != "" {
				if _, err := pool.Exec(ctx, tt.setup); err != nil {
					t.Fatal(err)
				}
			}
			got, err := catalog.MissingKeys(ctx, pool)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(got, tt.want, func(a, b catalog.MissingKey) bool {
				return a.Table == b.Table && slices.Equal(a.Key, b.Key) && a.Index == b.Index && a.ServedBy == b.ServedBy && a.Covered == b.Covered
			}) {
				t.Errorf("missing keys:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// serviceDump is the dump of the service's real database, beside the
// project in CI.
const serviceDump = "../../../shared/fixtures/original-service/schema.sql"

func dumpDB(t *testing.T) *pgxpool.Pool {
	dsn := pgtest.NewDB(t)
	pgtest.LoadServiceDump(t, dsn, serviceDump)
	return open(t, dsn)
}
