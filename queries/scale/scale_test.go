package scale_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/queries/indexq"
	"hmperf/queries/pgtest"
	"hmperf/queries/scale"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func connect(t *testing.T) (context.Context, *pgx.Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	conn, err := pgx.Connect(ctx, pgtest.NewMigratedDB(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return ctx, conn
}

// TestMonthsAndRows builds a small dataset the way the scale benchmark
// builds its large one and checks it exactly: every maintained table has
// the months asked for, and every row is in the month partition it was dealt
// to, none in a DEFAULT partition.
func TestMonthsAndRows(t *testing.T) {
	ctx, conn := connect(t)
	tables, err := scale.Tables(ctx, conn)
	if err != nil || len(tables) < len(scale.FillTables) {
		t.Fatalf("tables %v, %v", tables, err)
	}
	if err := scale.SetMonths(ctx, conn, 6); err != nil {
		t.Fatal(err)
	}
	created, err := indexq.MaintainPartitions(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	// Migrations keep 1 month back, the current one and 3 ahead: 5. Six
	// months add one per table.
	if created != len(tables) {
		t.Errorf("maintain created %d partitions for %d tables; want one each", created, len(tables))
	}
	for _, tbl := range tables {
		var months int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
			 WHERE i.inhparent = $1::regclass AND pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'`, tbl).Scan(&months); err != nil {
			t.Fatal(err)
		}
		if months != 6 {
			t.Errorf("%s has %d monthly partitions, want 6", tbl, months)
		}
	}
	if err := scale.EnsureUsers(ctx, conn, 0, 7); err != nil {
		t.Fatal(err)
	}
	const rows = 3001
	for _, tbl := range scale.FillTables {
		// Twice, with another microsecond: the same rows again must not
		// collide with the first ones.
		for micros := range 2 {
			n, err := scale.FillRows(ctx, conn, scale.Fill{Table: tbl, Rows: rows, Users: 7, Months: 2, Micros: micros})
			if err != nil || n != rows {
				t.Fatalf("fill %s: %d rows, %v", tbl, n, err)
			}
		}
		got := map[string]int{}
		r, err := conn.Query(ctx, fmt.Sprintf(`SELECT tableoid::regclass::text, count(*) FROM %s GROUP BY 1`, pgx.Identifier{tbl}.Sanitize()))
		if err != nil {
			t.Fatal(err)
		}
		for r.Next() {
			var part string
			var n int
			if err := r.Scan(&part, &n); err != nil {
				t.Fatal(err)
			}
			got[part] = n
		}
		if r.Err() != nil {
			t.Fatal(r.Err())
		}
		now := time.Now().UTC()
		first := time.Date(now.Year(), now.Month()-2, 1, 0, 0, 0, 0, time.UTC)
		second := first.AddDate(0, 1, 0)
		want := map[string]int{
			tbl + "_" + first.Format("2006_01"):  2 * 1501,
			tbl + "_" + second.Format("2006_01"): 2 * 1500,
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s rows per partition %v, want %v", tbl, got, want)
		}
	}
}

// TestFillRefusesWhatDoesNotFit: more rows than seconds in the months, or
// more months back than the horizon allows, is an error, not a silent
// duplicate or a negative setting.
func TestFillRefusesWhatDoesNotFit(t *testing.T) {
	ctx, conn := connect(t)
	if _, err := scale.FillRows(ctx, conn, scale.Fill{Table: "symptoms", Rows: 28*24*3600 + 1, Users: 1, Months: 1}); err == nil {
		t.Error("fill of more rows than seconds in a month: no error")
	}
	if _, err := scale.FillRows(ctx, conn, scale.Fill{Table: "heart_rate_metrics", Rows: 1, Users: 1, Months: 1}); err == nil {
		t.Error("fill of a table without a generator: no error")
	}
	if err := scale.SetMonths(ctx, conn, 3); err == nil {
		t.Error("3 months with 3 ahead: no error")
	}
}
