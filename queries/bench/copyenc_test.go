package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/queries/copyenc"
	"hmperf/queries/pgtest"
)

// TestEncodedCopyStoresWhatCopyFromStores: the payload encoded before the
// clock stores exactly the rows pgx's CopyFrom stores, for every pair and
// variant (numeric domains, enums, JSON arrays, NULLs), and variants whose
// columns have the same types share one payload.
func TestEncodedCopyStoresWhatCopyFromStores(t *testing.T) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgtest.NewMigratedDB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	anchor := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	for _, pair := range Pairs {
		ds, err := Generate(pair.Name, 300, 3, anchor)
		if err != nil {
			t.Fatal(err)
		}
		users, err := ReadUsers(ctx, conn, "")
		if err != nil {
			t.Fatal(err)
		}
		vd, err := prepare(ctx, conn, pair, ds, users, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range Variants {
			if err := sameAsCopyFrom(ctx, conn, vd, v); err != nil {
				t.Errorf("%s %s: %v", pair.Name, v, err)
			}
		}
		if pair.Name == "nutrition" && len(vd.payloads) != 1 {
			t.Errorf("nutrition: %d payloads, want 1 (numeric domains report numeric)", len(vd.payloads))
		}
	}
}

func sameAsCopyFrom(ctx context.Context, conn *pgx.Conn, vd variantData, v Variant) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if err := vd.users.Insert(ctx, tx, vd.owners); err != nil {
		return err
	}
	p, err := vd.copyData(v)
	if err != nil {
		return err
	}
	n, err := copyEncoded(ctx, tx, p)
	if err != nil || int(n) != len(vd.rows[v]) {
		return fmt.Errorf("encoded COPY wrote %d of %d rows: %v", n, len(vd.rows[v]), err)
	}
	t := vd.tables[v].m
	cols := columnList(t.Columns)
	if _, err := tx.Exec(ctx, "CREATE TEMP TABLE via_copyfrom ON COMMIT DROP AS SELECT "+cols+" FROM "+t.Table.Ident().Sanitize()+" WITH NO DATA"); err != nil {
		return err
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"via_copyfrom"}, t.Columns, pgx.CopyFromRows(vd.rows[v])); err != nil {
		return err
	}
	var differ int64
	err = tx.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) FROM (
		(SELECT %[1]s FROM %[2]s EXCEPT ALL SELECT %[1]s FROM via_copyfrom)
		UNION ALL
		(SELECT %[1]s FROM via_copyfrom EXCEPT ALL SELECT %[1]s FROM %[2]s)) d`, cols, t.Table.Ident().Sanitize())).Scan(&differ)
	if err != nil {
		return err
	}
	if differ != 0 {
		return fmt.Errorf("%d rows differ from pgx CopyFrom's", differ)
	}
	return nil
}

// BenchmarkEncodeCopy times what the COPY method does before its clock:
// encoding 10,000 nutrition rows as binary COPY data, by copyenc's encoder
// (encoder) and, for comparison, by pgx's generic path (pgx).
//
//	go test ./queries/bench -run '^$' -bench EncodeCopy
func BenchmarkEncodeCopy(b *testing.B) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgtest.NewMigratedDB(b))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	pair, _ := PairNamed("nutrition")
	ds, err := Generate(pair.Name, 10000, 1, time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC))
	if err != nil {
		b.Fatal(err)
	}
	users, err := ReadUsers(ctx, conn, "")
	if err != nil {
		b.Fatal(err)
	}
	vd, err := prepare(ctx, conn, pair, ds, users, "")
	if err != nil {
		b.Fatal(err)
	}
	enc := vd.tables[Optimized].enc
	for _, path := range []struct {
		name string
		l    *copyenc.Layout
	}{{"encoder", enc}, {"pgx", enc.PgxOnly()}} {
		b.Run(path.name, func(b *testing.B) {
			e := path.l.NewEncoder()
			var buf []byte
			b.ReportAllocs()
			for range b.N {
				if buf, err = e.AppendAll(buf[:0], vd.recs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(vd.recs))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
