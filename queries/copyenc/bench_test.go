package copyenc_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgtype"

	"hmperf/engine"
	"hmperf/queries/catalog"
	"hmperf/queries/copyenc"
)

// ownLayout lays kind k out for a table of hmperf's own layout, with the
// types its migrations give (the engine's SQL types), without a database.
func ownLayout(b testing.TB, k engine.Kind) *copyenc.Layout {
	tbl := engine.TableOf(k)
	live := &catalog.Table{Schema: "public", Name: tbl.Name}
	types := make([]copyenc.ColumnType, len(tbl.Columns))
	for i, c := range tbl.Columns {
		live.Columns = append(live.Columns, catalog.Column{Name: c.Name, Type: strings.ToLower(c.SQLType), NotNull: !c.Nullable})
		types[i] = typeOf(c.SQLType)
	}
	m, err := catalog.Map(tbl, live)
	if err != nil {
		b.Fatal(err)
	}
	l, err := copyenc.New(k, m, types)
	if err != nil {
		b.Fatal(err)
	}
	return l
}

// typeOf is the type a column declared as sql has, as the server
// describes it.
func typeOf(sql string) copyenc.ColumnType {
	switch {
	case sql == "UUID":
		return copyenc.ColumnType{OID: pgtype.UUIDOID, Typmod: -1}
	case sql == "TIMESTAMPTZ":
		return copyenc.ColumnType{OID: pgtype.TimestamptzOID, Typmod: -1}
	case sql == "INTEGER":
		return copyenc.ColumnType{OID: pgtype.Int4OID, Typmod: -1}
	case sql == "BOOLEAN":
		return copyenc.ColumnType{OID: pgtype.BoolOID, Typmod: -1}
	case sql == "JSONB":
		return copyenc.ColumnType{OID: pgtype.JSONBOID, Typmod: -1}
	case sql == "NUMERIC":
		return copyenc.ColumnType{OID: pgtype.NumericOID, Typmod: -1}
	case strings.HasPrefix(sql, "NUMERIC("):
		ps := strings.Split(strings.TrimSuffix(strings.TrimPrefix(sql, "NUMERIC("), ")"), ",")
		p, _ := strconv.Atoi(ps[0])
		s, _ := strconv.Atoi(ps[1])
		return copyenc.ColumnType{OID: pgtype.NumericOID, Typmod: int32(p<<16|s) + 4}
	}
	return copyenc.ColumnType{OID: pgtype.VarcharOID, Typmod: -1}
}

// BenchmarkEncode encodes generated records of every family into binary
// COPY rows on one core, by the encoder and by pgx's generic path (what
// the writers did before): one op is one row, so ns/op, B/op and
// allocs/op are per row; rows/s and MB/s are reported too, and rows per
// second of the process's CPU time, which a loaded machine disturbs less
// than the wall clock.
//
//	go test ./queries/copyenc -run '^$' -bench Encode -cpu 1
func BenchmarkEncode(b *testing.B) {
	for _, k := range engine.Kinds() {
		g, err := engine.NewGenerator(engine.GenConfig{Seed: 1, Types: []engine.Kind{k}, End: anchor})
		if err != nil {
			b.Fatal(err)
		}
		recs := make([]engine.Record, 1000)
		for i := range recs {
			recs[i] = g.Next().Record
		}
		l := ownLayout(b, k)
		for _, path := range []struct {
			name string
			l    *copyenc.Layout
		}{{"encoder", l}, {"pgx", l.PgxOnly()}} {
			b.Run(k.String()+"/"+path.name, func(b *testing.B) { encodeRows(b, path.l, recs) })
		}
	}
}

func encodeRows(b *testing.B, l *copyenc.Layout, recs []engine.Record) {
	e := l.NewEncoder()
	buf, err := e.AppendAll(nil, recs) // steady state: the buffer has grown
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(buf) / len(recs)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := range b.N {
		if i%len(recs) == 0 {
			buf = buf[:0]
		}
		if buf, err = e.AppendRow(buf, recs[i%len(recs)]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "rows/cpu-s")
	}
}
