package copyenc_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/engine"
	"hmperf/queries/catalog"
	"hmperf/queries/copyenc"
	"hmperf/queries/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// anchor fixes the generated timestamps, so no test depends on today.
var anchor = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// twinCase is a table whose layout the records are written to.
type twinCase struct {
	table string
	kind  engine.Kind
}

// TestSameRowsAsCopyFrom writes the same records both ways into twins of
// each table (columns, types, domains and NOT NULLs, no CHECK, key or
// trigger): by the encoder, and by pgx's CopyFrom of AppendValues as the
// writers did before; the twins must then hold the same rows, compared as
// text (so a NUMERIC's scale counts, not only its value) with EXCEPT ALL
// both ways. It covers every family on hmperf's layout, the benchmarks'
// optimized tables (numeric domains, enums), the service's own layout
// (other names, a dropped field) and a table with bigint and text user
// ids and a smallint column the encoder leaves to pgx.
func TestSameRowsAsCopyFrom(t *testing.T) {
	ctx := context.Background()
	hmperf := connect(t, pgtest.NewMigratedDB(t))
	var cases []twinCase
	for _, k := range engine.Kinds() {
		cases = append(cases, twinCase{k.Table(), k})
	}
	cases = append(cases, twinCase{"nutrition_metrics_optimized", engine.KindNutrition},
		twinCase{"symptoms_optimized", engine.KindSymptom}, twinCase{"activity_metrics_v2_optimized", engine.KindActivity})
	for _, c := range cases {
		t.Run("hmperf/"+c.table, func(t *testing.T) { sameRows(ctx, t, hmperf, c, "") })
	}

	serviceDSN := pgtest.NewDB(t)
	pgtest.LoadSQLFile(t, serviceDSN, "../catalog/testdata/service_layout.sql")
	service := connect(t, serviceDSN)
	for _, k := range engine.Kinds() {
		c := twinCase{k.Table(), k}
		if exists(ctx, t, service, c.table) {
			t.Run("service/"+c.table, func(t *testing.T) { sameRows(ctx, t, service, c, "") })
		}
	}

	for _, idType := range []string{"bigint", "text"} {
		table := "hr_" + idType
		if _, err := hmperf.Exec(ctx, fmt.Sprintf(`CREATE TABLE %s (id serial, user_id %s NOT NULL, recorded_at timestamptz NOT NULL,
			heart_rate smallint NOT NULL, resting_heart_rate bigint, heart_rate_variability numeric(12,4),
			context varchar(50), source_device text)`, table, idType)); err != nil {
			t.Fatal(err)
		}
		t.Run("other/"+table, func(t *testing.T) {
			sameRows(ctx, t, hmperf, twinCase{table, engine.KindHeartRate}, "mixed (pgx: heart_rate)")
		})
	}
}

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func exists(ctx context.Context, t *testing.T, conn *pgx.Conn, table string) bool {
	var ok bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", table).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

// sameRows writes c's records both ways and compares; wantPath, when set,
// is the path the layout must report (else "binary").
func sameRows(ctx context.Context, t *testing.T, conn *pgx.Conn, c twinCase, wantPath string) {
	live, err := catalog.Read(ctx, conn, pgx.Identifier{c.table})
	if err != nil {
		t.Fatal(err)
	}
	m, err := catalog.Map(engine.TableOf(c.kind), live)
	if err != nil {
		t.Fatal(err)
	}
	l, err := copyenc.Describe(ctx, conn, c.kind, m)
	if err != nil {
		t.Fatal(err)
	}
	if wantPath == "" {
		wantPath = "binary"
	}
	if l.Path() != wantPath {
		t.Errorf("path %q, want %q", l.Path(), wantPath)
	}
	recs := append(generated(t, c.kind, 600), edgeRecords(t, c.kind)...)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	// Named per table: pgx caches the description of the COPY's columns by
	// its text, and the twins of two tables differ in their types.
	enc, byPgx := "by_encoder_"+c.table, "by_pgx_"+c.table
	for _, twin := range []string{enc, byPgx} {
		if _, err := tx.Exec(ctx, fmt.Sprintf("CREATE TEMP TABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING GENERATED) ON COMMIT DROP", twin, live.Ident().Sanitize())); err != nil {
			t.Fatal(err)
		}
	}
	n, err := copyenc.Copy(ctx, tx.Conn().PgConn(), l, pgx.Identifier{enc}, recs)
	if err != nil || int(n) != len(recs) {
		t.Fatalf("encoder wrote %d of %d rows: %v", n, len(recs), err)
	}
	rows := make([][]any, len(recs))
	for i, r := range recs {
		rows[i] = m.Row(nil, r.AppendValues(nil))
	}
	if n, err = tx.CopyFrom(ctx, pgx.Identifier{byPgx}, m.Columns, pgx.CopyFromRows(rows)); err != nil || int(n) != len(recs) {
		t.Fatalf("pgx wrote %d of %d rows: %v", n, len(recs), err)
	}
	var differ int64
	var example string
	row := "ROW(" + columnList(m.Columns) + ")::text"
	err = tx.QueryRow(ctx, fmt.Sprintf(`SELECT count(*), coalesce(min(r), '') FROM (
		(SELECT 'encoder ' || %[1]s r FROM %[2]s EXCEPT ALL SELECT 'encoder ' || %[1]s FROM %[3]s)
		UNION ALL
		(SELECT 'pgx ' || %[1]s FROM %[3]s EXCEPT ALL SELECT 'pgx ' || %[1]s FROM %[2]s)) d`, row, enc, byPgx)).Scan(&differ, &example)
	if err != nil {
		t.Fatal(err)
	}
	if differ != 0 {
		t.Errorf("%d rows differ, e.g. %s", differ, example)
	}
}

func columnList(cols []string) string {
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = pgx.Identifier{c}.Sanitize()
	}
	return strings.Join(quoted, ", ")
}

func generated(t testing.TB, k engine.Kind, n int) []engine.Record {
	g, err := engine.NewGenerator(engine.GenConfig{Seed: 11, Types: []engine.Kind{k}, End: anchor})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]engine.Record, n)
	for i := range out {
		out[i] = g.Next().Record
	}
	return out
}

// edgeValues are the values every numeric column gets besides its bounds:
// zero both ways, ties and near ties at scales 2 and 3 (1.005's double
// lies below the tie, 2.675's too, 0.125 is exact), many digits, tiny ones.
var edgeValues = []float64{0, math.Copysign(0, -1), 0.005, 0.0005, 0.125, 1.005, 2.675, 1.115, 9.995, 99.995,
	1 / 3.0, 2 / 3.0, 0.1 + 0.2, 1e-7, 12.3456789, 49.9999, 0.0049999}

// edgeRecords are records of kind k, each a generated one with one
// numeric field set to an edge value or to a bound of its column, or
// every optional field NULL.
func edgeRecords(t *testing.T, k engine.Kind) []engine.Record {
	base := generated(t, k, 1)[0]
	var out []engine.Record
	cols := engine.TableOf(k).Columns
	kinds := engine.CellKinds(k)
	for i, c := range cols {
		if kinds[i] != engine.CellNum && kinds[i] != engine.CellInt {
			continue
		}
		vals := []float64{c.Lo}
		if c.Hi < math.MaxInt32 {
			vals = append(vals, c.Hi)
		}
		if kinds[i] == engine.CellNum {
			vals = append(vals, edgeValues...)
		}
		for _, v := range vals {
			r := base.Clone()
			if setNum(r, i, v) {
				out = append(out, r)
			}
		}
	}
	return append(out, nulls(base))
}

// setNum sets numeric column i of r through its exported fields.
func setNum(r engine.Record, i int, v float64) bool {
	switch r := r.(type) {
	case *engine.Nutrition:
		r.Set(i-2, v)
	case *engine.Activity:
		r.Set(i-2, v)
	case *engine.HeartRate:
		switch i {
		case 2:
			r.HeartRate = int32(v)
		case 3:
			r.RestingHeartRate = engine.Some(int32(v))
		case 4:
			r.HeartRateVariability = engine.Some(v)
		}
	case *engine.Sleep:
		if i != 8 {
			return false
		}
		r.Efficiency = engine.Some(v)
	case *engine.Workout:
		switch i {
		case 4:
			r.TotalEnergyKcal = engine.Some(v)
		case 5:
			r.DistanceMeters = engine.Some(v)
		default:
			return false
		}
	default:
		return false
	}
	return true
}

// nulls is r with every optional field NULL (and, for a symptom, JSON
// arrays that need escaping).
func nulls(r engine.Record) engine.Record {
	r = r.Clone()
	switch r := r.(type) {
	case *engine.Nutrition:
		r.Present, r.Source = 0, ""
	case *engine.Activity:
		r.Present, r.Source = 0, ""
	case *engine.HeartRate:
		r.RestingHeartRate, r.HeartRateVariability, r.Context, r.Source = engine.Opt[int32]{}, engine.Opt[float64]{}, "", ""
	case *engine.Sleep:
		// duration_minutes stays: the service's table has it NOT NULL.
		*r = engine.Sleep{User: r.User, Start: r.Start, End: r.End, DurationMinutes: r.DurationMinutes}
	case *engine.Workout:
		*r = engine.Workout{User: r.User, Type: r.Type, Start: r.Start, End: r.End}
	case *engine.BloodPressure:
		r.Pulse, r.Source = engine.Opt[int32]{}, ""
	case *engine.Symptom:
		r.DurationMinutes, r.OnsetAt, r.Notes = engine.Opt[int32]{}, time.Time{}, ""
		r.Triggers = []string{`quote " and \ backslash`, "tab\tnew\nline\x01", "ünïcødé ✓", "bad \xff utf-8", "<&>", ""}
		r.Treatments = []string{}
	}
	return r
}
