package catalog_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"hmperf/engine"
	"hmperf/queries/catalog"
	"hmperf/queries/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// serviceDB is a database holding testdata/service_layout.sql.
func serviceDB(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool := open(t, pgtest.NewDB(t))
	sql, err := os.ReadFile("testdata/service_layout.sql")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(context.Background(), string(sql)); err != nil {
		t.Fatalf("load service layout: %v", err)
	}
	return pool
}

func open(t *testing.T, dsn string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func read(t *testing.T, db *pgxpool.Pool, ident ...string) *catalog.Table {
	t.Helper()
	tbl, err := catalog.Read(context.Background(), db, pgx.Identifier(ident))
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

func TestReadServiceLayout(t *testing.T) {
	db := serviceDB(t)
	tests := []struct {
		table       string
		column      string
		want        catalog.Column
		partitioned bool
		children    int
		keys        [][]string
	}{
		{table: "users", column: "email", want: catalog.Column{Name: "email", Type: "character varying(255)", NotNull: true},
			keys: [][]string{{"id"}, {"email"}}},
		{table: "users", column: "id", want: catalog.Column{Name: "id", Type: "uuid", NotNull: true, HasDefault: true},
			keys: [][]string{{"id"}, {"email"}}},
		{table: "heart_rate_metrics", column: "source_device", want: catalog.Column{Name: "source_device", Type: "character varying(100)"},
			keys: [][]string{{"id"}}},
		{table: "workouts", column: "duration_computed", want: catalog.Column{Name: "duration_computed", Type: "integer", Generated: true},
			keys: [][]string{{"id"}, {"user_id", "started_at"}}},
		{table: "activity_metrics_v2", column: "id", want: catalog.Column{Name: "id", Type: "bigint", NotNull: true, HasDefault: true},
			partitioned: true, children: 6, keys: [][]string{{"user_id", "recorded_at"}}},
		{table: "symptoms", column: "severity", want: catalog.Column{Name: "severity", Type: "character varying(20)", NotNull: true, HasDefault: true},
			partitioned: true, children: 7, keys: [][]string{{"user_id", "recorded_at", "symptom_type"}}},
		{table: "nutrition_metrics", column: "protein_g", want: catalog.Column{Name: "protein_g", Type: "numeric(8,2)"},
			partitioned: true, children: 1, keys: [][]string{{"user_id", "recorded_at"}}},
	}
	for _, tt := range tests {
		t.Run(tt.table+"."+tt.column, func(t *testing.T) {
			tbl := read(t, db, tt.table)
			if tbl.Schema != "public" || tbl.Name != tt.table {
				t.Errorf("read %s.%s, want public.%s", tbl.Schema, tbl.Name, tt.table)
			}
			c, ok := tbl.Column(tt.column)
			c.TypeOID = 0
			if !ok || c != tt.want {
				t.Errorf("column %s = %+v (found %v), want %+v", tt.column, c, ok, tt.want)
			}
			if tbl.Partitioned != tt.partitioned || len(tbl.Children) != tt.children {
				t.Errorf("partitioned %v with %d partitions, want %v with %d", tbl.Partitioned, len(tbl.Children), tt.partitioned, tt.children)
			}
			if !slices.EqualFunc(tbl.UniqueKeys, tt.keys, slices.Equal) {
				t.Errorf("unique keys %v, want %v", tbl.UniqueKeys, tt.keys)
			}
		})
	}
}

func TestReadMissingTable(t *testing.T) {
	db := serviceDB(t)
	_, err := catalog.Read(context.Background(), db, pgx.Identifier{"hmperf_sandbox", "users"})
	if !errors.Is(err, catalog.ErrNoTable) {
		t.Fatalf("err = %v, want ErrNoTable", err)
	}
}

func TestMapServiceLayout(t *testing.T) {
	db := serviceDB(t)
	tests := []struct {
		kind    engine.Kind
		has     []string // live columns written
		dropped []string
		key     []string
	}{
		{kind: engine.KindHeartRate, has: []string{"user_id", "recorded_at", "heart_rate", "source_device"},
			dropped: []string{"public.heart_rate_metrics.heart_rate_variability"}},
		{kind: engine.KindSleep, has: []string{"sleep_efficiency", "source_device"}, key: []string{"user_id", "sleep_start", "sleep_end"}},
		{kind: engine.KindWorkout, has: []string{"average_heart_rate", "total_energy_kcal", "source_device"}, key: []string{"user_id", "started_at"}},
		{kind: engine.KindNutrition, has: []string{"water_ml", "protein_g", "source"}, key: []string{"user_id", "recorded_at"}},
	}
	for _, tt := range tests {
		t.Run(tt.kind.Table(), func(t *testing.T) {
			m, err := catalog.Map(engine.TableOf(tt.kind), read(t, db, tt.kind.Table()))
			if err != nil {
				t.Fatal(err)
			}
			if m.Direct() {
				t.Error("mapping onto the service's layout claims to be direct")
			}
			for _, c := range tt.has {
				if !slices.Contains(m.Columns, c) {
					t.Errorf("columns %v lack %s", m.Columns, c)
				}
			}
			if slices.Contains(m.Columns, "source") && slices.Contains(m.Columns, "source_device") {
				t.Errorf("columns %v write the source twice", m.Columns)
			}
			if tt.dropped != nil && !slices.Equal(m.Dropped, tt.dropped) {
				t.Errorf("dropped %v, want %v", m.Dropped, tt.dropped)
			}
			if !slices.Equal(m.Key, tt.key) {
				t.Errorf("key %v, want %v", m.Key, tt.key)
			}
		})
	}
}

// TestMapHmperfLayoutIsDirect: on hmperf's own tables every kind writes its
// values as they are, so the ingest hot path does no per-row mapping.
func TestMapHmperfLayoutIsDirect(t *testing.T) {
	t.Parallel()
	db := open(t, pgtest.NewMigratedDB(t))
	for _, k := range engine.Kinds() {
		m, err := catalog.Map(engine.TableOf(k), read(t, db, k.Table()))
		if err != nil {
			t.Fatal(err)
		}
		if !m.Direct() || len(m.Dropped) != 0 || !slices.Equal(m.Key, engine.TableOf(k).Key) {
			t.Errorf("%s: direct %v, dropped %v, key %v", k.Table(), m.Direct(), m.Dropped, m.Key)
		}
	}
}

func TestMapRefuses(t *testing.T) {
	tests := []struct {
		name  string
		alter string
		kind  engine.Kind
		want  string
	}{
		{"required field missing", "ALTER TABLE blood_pressure_metrics DROP COLUMN diastolic", engine.KindBloodPressure,
			"cannot write public.blood_pressure_metrics: public.blood_pressure_metrics.diastolic: no such column"},
		{"key column missing", "ALTER TABLE symptoms DROP COLUMN symptom_type CASCADE", engine.KindSymptom,
			"public.symptoms.symptom_type: no such column"},
		{"extra NOT NULL without default", "ALTER TABLE heart_rate_metrics ADD COLUMN device_serial text NOT NULL", engine.KindHeartRate,
			"public.heart_rate_metrics.device_serial: NOT NULL without a default"},
		{"user id of another type", "ALTER TABLE heart_rate_metrics DROP COLUMN user_id, ADD COLUMN user_id date NOT NULL", engine.KindHeartRate,
			"has type date"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := serviceDB(t)
			if _, err := db.Exec(context.Background(), tt.alter); err != nil {
				t.Fatal(err)
			}
			_, err := catalog.Map(engine.TableOf(tt.kind), read(t, db, tt.kind.Table()))
			var lerr *catalog.LayoutError
			if !errors.As(err, &lerr) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want a LayoutError containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans several lines: %q", err)
			}
		})
	}
}

func TestUsersFillsEmail(t *testing.T) {
	db := serviceDB(t)
	u, err := catalog.MapUsers(read(t, db, "users"))
	if err != nil {
		t.Fatal(err)
	}
	ids := []engine.UUID{{1}, {2}, {3}}
	ctx := context.Background()
	for range 2 { // the second time, every user exists already
		if err := u.Insert(ctx, db, ids); err != nil {
			t.Fatal(err)
		}
	}
	var n, synthetic int
	if err := db.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE email = 'hmperf-sample-' || id || '@example.invalid') FROM users`).Scan(&n, &synthetic); err != nil {
		t.Fatal(err)
	}
	if n != 3 || synthetic != 3 {
		t.Errorf("%d users, %d with the synthetic email; want 3 and 3", n, synthetic)
	}
	all, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer all.Rollback(ctx)
	if ok, err := u.Lock(ctx, all, append(ids, engine.UUID{9})); err != nil || ok {
		t.Errorf("Lock with an unknown user = %v, %v; want false", ok, err)
	}
}

func TestUsersBigintIDs(t *testing.T) {
	t.Parallel()
	db := open(t, pgtest.NewDB(t))
	ctx := context.Background()
	if _, err := db.Exec(ctx, `CREATE TABLE users (id bigint PRIMARY KEY, login text NOT NULL, active boolean NOT NULL DEFAULT true)`); err != nil {
		t.Fatal(err)
	}
	u, err := catalog.MapUsers(read(t, db, "users"))
	if err != nil {
		t.Fatal(err)
	}
	ids := []engine.UUID{{0xff, 1}, {2}, {3}}
	if err := u.Insert(ctx, db, ids); err != nil {
		t.Fatal(err)
	}
	var got []int64
	rows, _ := db.Query(ctx, `SELECT id FROM users WHERE login = 'hmperf-sample-' || id ORDER BY id`)
	got, err = pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	want := []int64{catalog.IDBigint.Value(ids[1]).(int64), catalog.IDBigint.Value(ids[2]).(int64), catalog.IDBigint.Value(ids[0]).(int64)}
	if !slices.Equal(got, want) || want[2] <= 0 {
		t.Errorf("stored ids %v, want %v (positive)", got, want)
	}
	if _, err := db.Exec(ctx, `ALTER TABLE users ADD COLUMN born date NOT NULL DEFAULT now(); ALTER TABLE users ALTER COLUMN born DROP DEFAULT`); err != nil {
		t.Fatal(err)
	}
	if _, err := catalog.MapUsers(read(t, db, "users")); err == nil || !strings.Contains(err.Error(), "public.users.born") {
		t.Errorf("MapUsers with a NOT NULL date = %v, want an error naming public.users.born", err)
	}
}
