package catalog_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

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
		// A timestamptz constant (symptoms' 1900-01-01) and an interval
		// (workouts' 24 hours) print in the session's settings: the
		// definitions must still be recognised.
		{"hmperf, sessions in Asia/Kathmandu with ISO 8601 intervals", func(t *testing.T) *pgxpool.Pool {
			dsn := pgtest.NewMigratedDB(t)
			setup := open(t, dsn)
			if _, err := setup.Exec(context.Background(), `DO $$ BEGIN
				EXECUTE format('ALTER DATABASE %I SET TimeZone = %L', current_database(), 'Asia/Kathmandu');
				EXECUTE format('ALTER DATABASE %I SET IntervalStyle = %L', current_database(), 'iso_8601');
				EXECUTE format('ALTER DATABASE %I SET DateStyle = %L', current_database(), 'SQL, DMY');
			END $$`); err != nil {
				t.Fatal(err)
			}
			setup.Close()
			return open(t, dsn)
		}},
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

// TestAdaptCheck: each CHECK added to the service's layout is enforced by
// the fitted rules, named as unknown, or left out when it reads no column
// hmperf writes.
func TestAdaptCheck(t *testing.T) {
	tests := []struct {
		name, table, def string
		kind             engine.Kind
		unknown          bool
		// refused and accepted are values of field the fitted rules must
		// refuse and accept.
		field             string
		refused, accepted float64
	}{
		{"narrower range", "heart_rate_metrics", "CHECK (heart_rate BETWEEN 30 AND 220)", engine.KindHeartRate, false, "heart_rate", 29, 30},
		{"exclusive bound", "workouts", "CHECK (total_energy_kcal > 0)", engine.KindWorkout, false, "total_energy_kcal", 0, 0.01},
		{"reversed comparison", "workouts", "CHECK (started_at < ended_at)", engine.KindWorkout, false, "", 0, 0},
		{"text comparison", "heart_rate_metrics", "CHECK (source_device <> 'rig')", engine.KindHeartRate, true, "", 0, 0},
		{"arithmetic between fields", "sleep_metrics", "CHECK (deep_sleep_minutes <= rem_sleep_minutes * 3)", engine.KindSleep, true, "", 0, 0},
		{"a column hmperf does not write", "heart_rate_metrics", "CHECK (id IS NOT NULL)", engine.KindHeartRate, false, "", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := serviceDB(t)
			ctx := context.Background()
			if _, err := db.Exec(ctx, "ALTER TABLE "+pgx.Identifier{tt.table}.Sanitize()+" ADD CONSTRAINT added_check "+tt.def); err != nil {
				t.Fatal(err)
			}
			rules, unknown, _ := adaptAll(t, db)
			named := len(unknown) == 1 && unknown[0].Name == "added_check" && unknown[0].Table == "public."+tt.table
			if tt.unknown != named || !tt.unknown && len(unknown) != 0 {
				t.Fatalf("unknown %v, want the added CHECK unknown: %v", unknown, tt.unknown)
			}
			if tt.field == "" {
				return
			}
			for _, r := range rules.For(tt.kind) {
				if r.Field != tt.field || r.Kind != engine.RuleRange {
					continue
				}
				rec := engine.Baseline(tt.kind, engine.UUID{1}, time.Now())
				for v, wantValid := range map[float64]bool{tt.refused: false, tt.accepted: true} {
					if err := r.Apply(rec, v); err != nil {
						t.Fatal(err)
					}
					if valid := len(rules.Validate(rec, nil)) == 0; valid != wantValid {
						t.Errorf("%s = %g: valid %v, want %v", tt.field, v, valid, wantValid)
					}
				}
			}
		})
	}
}
