package catalog_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"hmperf/engine"
	"hmperf/queries/catalog"
	"hmperf/queries/pgtest"
)

// serviceDumpDB is the dump of the service's own database, where it is
// beside the project; nil otherwise.
func serviceDumpDB(t *testing.T) *pgxpool.Pool {
	t.Helper()
	dump := filepath.Join("..", "..", "..", "shared", "fixtures", "original-service", "schema.sql")
	if _, err := os.Stat(dump); err != nil {
		return nil
	}
	dsn := pgtest.NewDB(t)
	pgtest.LoadServiceDump(t, dsn, dump)
	return open(t, dsn)
}

// adaptAll adapts the default rules to the CHECKs of every kind's table in
// db and returns them with the CHECKs left unknown.
func adaptAll(t *testing.T, db *pgxpool.Pool) (*engine.Rules, []catalog.Check, int) {
	t.Helper()
	ctx := context.Background()
	rules := engine.DefaultRules()
	var unknown []catalog.Check
	n := 0
	for _, k := range engine.Kinds() {
		live, err := catalog.Read(ctx, db, pgx.Identifier{k.Table()})
		if err != nil {
			t.Fatal(err)
		}
		m, err := catalog.Map(engine.TableOf(k), live)
		if err != nil {
			t.Fatal(err)
		}
		checks, err := catalog.ReadChecks(ctx, db, live)
		if err != nil {
			t.Fatal(err)
		}
		n += len(checks)
		var u []catalog.Check
		rules, u = catalog.Adapt(rules, k, m, checks)
		unknown = append(unknown, u...)
	}
	return rules, unknown, n
}

// TestAdaptKnowsEveryCheck: the validator knows every CHECK on the metric
// tables of hmperf's own schema, of the project's fixture of the service's
// and of the service's own dump (where present): none is left unknown.
func TestAdaptKnowsEveryCheck(t *testing.T) {
	dbs := []struct {
		name string
		open func(*testing.T) *pgxpool.Pool
	}{
		{"hmperf", func(t *testing.T) *pgxpool.Pool { return open(t, pgtest.NewMigratedDB(t)) }},
		{"service layout", serviceDB},
		{"service dump", serviceDumpDB},
	}
	for _, db := range dbs {
		t.Run(db.name, func(t *testing.T) {
			pool := db.open(t)
			if pool == nil {
				t.Skip("the service's dump (../shared/fixtures/original-service) is not beside the project")
			}
			_, unknown, n := adaptAll(t, pool)
			if n == 0 {
				t.Error("no CHECK read")
			}
			for _, c := range unknown {
				t.Errorf("unknown: %s (columns %v)", c, c.Columns)
			}
		})
	}
}
