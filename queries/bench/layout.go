package bench

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"hmperf/engine"
	"hmperf/queries"
	"hmperf/queries/catalog"
	"hmperf/queries/copyenc"
)

// variantTable is one variant's live table, how the dataset maps onto it,
// and the type OIDs of the columns written (for encoding COPY data).
type variantTable struct {
	m    *catalog.Mapping
	oids []uint32
	enc  *copyenc.Layout
}

// variantData is a pair's dataset laid out for each variant's live table:
// the catalogue is read and the rows are projected once, before any timing,
// so every timed COPY sends rows already in its table's column order.
type variantData struct {
	tables map[Variant]variantTable
	rows   map[Variant][][]any
	recs   []engine.Record // the rows as records, for the COPY encoder
	users  *catalog.Users
	owners []engine.UUID
	// payloads caches each variant's rows encoded for binary COPY, by
	// copySignature, so that variants with the same column types share
	// one; filled by copyData.
	payloads map[string][]byte
}

// head is the first n rows of every variant.
func (d variantData) head(n int) variantData {
	out := d
	out.payloads = map[string][]byte{}
	out.rows = make(map[Variant][][]any, len(d.rows))
	for v, rows := range d.rows {
		out.rows[v] = rows[:min(n, len(rows))]
	}
	out.recs = d.recs[:min(n, len(d.recs))]
	return out
}

// copyData is variant v's rows encoded for binary COPY by copyenc, encoded
// on first use and then reused: every repetition sends the same bytes.
func (d variantData) copyData(v Variant) (copyPayload, error) {
	t := d.tables[v]
	p := copyPayload{sql: t.enc.SQL(t.m.Table.Ident())}
	key := copySignature(t.oids, t.m.Direct(), v)
	if data, ok := d.payloads[key]; ok {
		p.data = data
		return p, nil
	}
	data, err := t.enc.NewEncoder().AppendAll(nil, d.recs)
	if err != nil {
		return copyPayload{}, fmt.Errorf("bench: %s: %w", t.m.Table, err)
	}
	d.payloads[key], p.data = data, data
	return p, nil
}

// ReadUsers reads the users table the row owners go into: the live one,
// or its copy in schema when schema is not empty.
func ReadUsers(ctx context.Context, db queries.DBTX, schema string) (*catalog.Users, error) {
	live, err := catalog.Read(ctx, db, qualify(schema, "users"))
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	u, err := catalog.MapUsers(live)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	return u, nil
}

// Owners are the dataset's row owners as catalog.Users inserts them.
func (ds Dataset) Owners() []engine.UUID {
	out := make([]engine.UUID, len(ds.Users))
	for i, u := range ds.Users {
		out[i] = u
	}
	return out
}

// MapRows reads the table ident from the catalogue and lays the dataset's
// rows out for it. A table that lacks a column the rows need fails here,
// with the table and column named.
func MapRows(ctx context.Context, db queries.DBTX, ident pgx.Identifier, ds Dataset) (*catalog.Mapping, [][]any, error) {
	live, err := catalog.Read(ctx, db, ident)
	if err != nil {
		return nil, nil, err
	}
	m, err := catalog.Map(engine.TableOf(ds.Kind), live)
	if err != nil {
		return nil, nil, err
	}
	if m.Direct() {
		return m, ds.Rows, nil
	}
	rows := make([][]any, len(ds.Rows))
	for i, r := range ds.Rows {
		rows[i] = m.Row(nil, r)
	}
	return m, rows, nil
}

// prepare maps the generated rows onto each variant's table. A variant
// whose table lacks a column the rows need fails here, before any COPY,
// with the table and column named.
func prepare(ctx context.Context, db queries.DBTX, pair Pair, ds Dataset, users *catalog.Users, schema string) (variantData, error) {
	out := variantData{tables: map[Variant]variantTable{}, rows: map[Variant][][]any{}, recs: ds.Records, users: users,
		owners: ds.Owners(), payloads: map[string][]byte{}}
	for _, v := range Variants {
		m, rows, err := MapRows(ctx, db, qualify(schema, pair.Tables[v]), ds)
		if err != nil {
			return variantData{}, fmt.Errorf("bench: %s %s: %w", pair.Name, v, err)
		}
		oids, err := describeColumns(ctx, db, m.Table.Ident(), m.Columns)
		if err != nil {
			return variantData{}, err
		}
		enc, err := copyenc.Describe(ctx, db, ds.Kind, m)
		if err != nil {
			return variantData{}, fmt.Errorf("bench: %s %s: %w", pair.Name, v, err)
		}
		out.tables[v], out.rows[v] = variantTable{m: m, oids: oids, enc: enc}, rows
	}
	return out, nil
}

// qualify names table in schema, or unqualified (found on the search path)
// when schema is empty.
func qualify(schema, table string) pgx.Identifier {
	if schema == "" {
		return pgx.Identifier{table}
	}
	return pgx.Identifier{schema, table}
}
