package catalog_test

import (
	"context"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"

	"hmperf/engine"
	"hmperf/queries/catalog"
	"hmperf/queries/pgtest"
)

// TestUsersCreateMissingExisting: on users tables keyed by uuid, bigint and
// text, Create adds only the ids that are new and returns them, Missing
// names the ids the table lacks, and Existing reads ids that Missing then
// finds.
func TestUsersCreateMissingExisting(t *testing.T) {
	for _, idType := range []string{"uuid", "bigint", "text"} {
		t.Run(idType, func(t *testing.T) {
			ctx := context.Background()
			db := open(t, pgtest.NewDB(t))
			if _, err := db.Exec(ctx, "CREATE TABLE users (id "+idType+" PRIMARY KEY, email text NOT NULL UNIQUE)"); err != nil {
				t.Fatal(err)
			}
			live, err := catalog.Read(ctx, db, pgx.Identifier{"users"})
			if err != nil {
				t.Fatal(err)
			}
			u, err := catalog.MapUsers(live)
			if err != nil {
				t.Fatal(err)
			}
			a, b, c := engine.UUID{1, 1}, engine.UUID{2, 2}, engine.UUID{3, 3}
			if got, err := u.Create(ctx, db, []engine.UUID{a, b}); err != nil || !slices.Equal(got, []engine.UUID{a, b}) {
				t.Fatalf("first Create: %v, %v", got, err)
			}
			if got, err := u.Create(ctx, db, []engine.UUID{b, c}); err != nil || !slices.Equal(got, []engine.UUID{c}) {
				t.Fatalf("second Create: %v, %v; want only the new one", got, err)
			}
			if got, err := u.Missing(ctx, db, []engine.UUID{{9}, a, {8}}); err != nil || !slices.Equal(got, []engine.UUID{{9}, {8}}) {
				t.Fatalf("Missing: %v, %v", got, err)
			}
			existing, err := u.Existing(ctx, db, 2)
			if err != nil || len(existing) != 2 {
				t.Fatalf("Existing: %v, %v", existing, err)
			}
			if missing, err := u.Missing(ctx, db, existing); err != nil || len(missing) != 0 {
				t.Errorf("the existing users %v are missing: %v, %v", existing, missing, err)
			}
		})
	}
}
