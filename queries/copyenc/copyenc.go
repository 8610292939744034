// Package copyenc writes engine records as PostgreSQL binary COPY data
// straight from their fields into a reused buffer, column by column for a
// live table's layout (the catalogue's mapping included), with no value
// boxed in an interface: NUMERIC is built from the float64 and the
// column's scale, and integers, timestamps, uuids, texts, enums, booleans
// and JSON arrays are written directly. A column whose type it does not
// cover is encoded by pgx's generic path, as pgx's CopyFrom would, so
// every table can be written; Layout.Path says which path each column
// takes. What it writes is what pgx's CopyFrom of Record.AppendValues
// stores, value for value (the tests compare the two on every family).
package copyenc

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"hmperf/engine"
	"hmperf/queries/catalog"
)

// ColumnType is what the server says of a column written: the type OID and
// modifier a describe of the COPY's column list reports (a domain reports
// its base type and modifier), and whether the type is an enum.
type ColumnType struct {
	OID    uint32
	Typmod int32
	Enum   bool
}

// encoding is how one column's values are written.
type encoding uint8

const (
	encPgx encoding = iota // pgx's generic path
	encUUID
	encUserBigint // an engine user id as the bigint catalog.IDBigint makes it
	encUserText   // an engine user id as its canonical text
	encTimestamptz
	encInt4
	encInt8
	encNumeric
	encFloat8
	encBool
	encText // text, varchar and enums: the bytes themselves
	encJSONB
)

type column struct {
	name  string
	src   int // the engine column it writes
	live  int // its place in the live row (Mapping.Row), for pgx
	enc   encoding
	scale int // numeric: the column's scale, -1 when unconstrained
	oid   uint32
}

// Layout is how the records of one kind are written to one live table's
// columns. It is immutable, so writers on several connections share it;
// each stream of rows has its own Encoder.
type Layout struct {
	kind    engine.Kind
	m       *catalog.Mapping
	cols    []column
	pgxCols []string
}

// New lays out the records of kind k for the live columns m writes, whose
// types are types (one per m.Columns).
func New(k engine.Kind, m *catalog.Mapping, types []ColumnType) (*Layout, error) {
	if len(types) != len(m.Columns) {
		return nil, fmt.Errorf("copyenc: %d column types for %d columns of %s", len(types), len(m.Columns), m.Table)
	}
	eng := engine.TableOf(k)
	kinds := engine.CellKinds(k)
	l := &Layout{kind: k, m: m}
	user := userAt(m)
	for j, name := range m.Columns {
		field, ok := m.Field(name)
		src := -1
		for i, c := range eng.Columns {
			if ok && c.Name == field {
				src = i
			}
		}
		if src < 0 {
			return nil, fmt.Errorf("copyenc: %s.%s writes no field of %s", m.Table, name, eng.Name)
		}
		c := column{name: name, src: src, live: j, oid: types[j].OID, scale: -1}
		c.enc, c.scale = choose(kinds[src], types[j], j == user, m.UserID)
		if c.enc == encPgx {
			l.pgxCols = append(l.pgxCols, name)
		}
		l.cols = append(l.cols, c)
	}
	return l, nil
}

// userAt is the index of the user id in m.Columns.
func userAt(m *catalog.Mapping) int {
	for j, name := range m.Columns {
		if f, _ := m.Field(name); f == "user_id" {
			return j
		}
	}
	return -1
}

// choose picks the fast encoding for an engine value of kind ck written to
// a column of type t, or encPgx where there is none.
func choose(ck engine.CellKind, t ColumnType, user bool, id catalog.IDType) (encoding, int) {
	switch ck {
	case engine.CellUUID:
		return chooseUser(t, user, id), -1
	case engine.CellTime:
		return pick(t.OID == pgtype.TimestamptzOID, encTimestamptz), -1
	case engine.CellInt:
		switch t.OID {
		case pgtype.Int4OID:
			return encInt4, -1
		case pgtype.Int8OID:
			return encInt8, -1
		case pgtype.NumericOID:
			return numeric(t.Typmod)
		}
	case engine.CellNum:
		switch t.OID {
		case pgtype.NumericOID:
			return numeric(t.Typmod)
		case pgtype.Float8OID:
			return encFloat8, -1
		}
	case engine.CellBool:
		return pick(t.OID == pgtype.BoolOID, encBool), -1
	case engine.CellText:
		return pick(t.Enum || t.OID == pgtype.TextOID || t.OID == pgtype.VarcharOID, encText), -1
	case engine.CellStrings:
		return pick(t.OID == pgtype.JSONBOID, encJSONB), -1
	}
	return encPgx, -1
}

func chooseUser(t ColumnType, user bool, id catalog.IDType) encoding {
	switch {
	case !user:
		return encPgx
	case id == catalog.IDUUID && t.OID == pgtype.UUIDOID:
		return encUUID
	case id == catalog.IDBigint && t.OID == pgtype.Int8OID:
		return encUserBigint
	case id == catalog.IDText && (t.OID == pgtype.TextOID || t.OID == pgtype.VarcharOID):
		return encUserText
	}
	return encPgx
}

func pick(ok bool, e encoding) encoding {
	if ok {
		return e
	}
	return encPgx
}

// numeric reads a NUMERIC modifier: unconstrained below 4, else
// ((precision << 16) | scale) + 4, the scale in 11 bits with its sign
// (PostgreSQL 15 allows a negative scale, which is left to pgx).
func numeric(typmod int32) (encoding, int) {
	if typmod < 4 {
		return encNumeric, -1
	}
	scale := int(((typmod-4)&0x7ff)^1024) - 1024
	if scale < 0 {
		return encPgx, -1
	}
	return encNumeric, scale
}

// Path says how the layout writes its rows: "binary" when every column
// takes the fast path, "pgx" when none does, else "mixed (pgx: a, b)".
func (l *Layout) Path() string {
	switch len(l.pgxCols) {
	case 0:
		return "binary"
	case len(l.cols):
		return "pgx"
	}
	return "mixed (pgx: " + strings.Join(l.pgxCols, ", ") + ")"
}

// PgxOnly is the same layout with every column encoded by pgx's generic
// path: what the writers did before this package, kept to measure against.
func (l *Layout) PgxOnly() *Layout {
	c := *l
	c.cols = append([]column(nil), l.cols...)
	c.pgxCols = nil
	for i := range c.cols {
		c.cols[i].enc = encPgx
		c.pgxCols = append(c.pgxCols, c.cols[i].name)
	}
	return &c
}

// SQL is the COPY statement that reads the layout's rows into table (the
// live table or a twin with its columns).
func (l *Layout) SQL(table pgx.Identifier) string {
	quoted := make([]string, len(l.m.Columns))
	for i, n := range l.m.Columns {
		quoted[i] = pgx.Identifier{n}.Sanitize()
	}
	return "COPY " + table.Sanitize() + " (" + strings.Join(quoted, ", ") + ") FROM STDIN (FORMAT binary)"
}

// Encoder appends rows of one layout. It keeps scratch space between rows,
// so it is for one goroutine at a time.
type Encoder struct {
	l       *Layout
	tm      *pgtype.Map // pgx's encoders, made on first use
	scratch []byte
	vals    []any
	row     []any
}

// NewEncoder returns an encoder of l's rows.
func (l *Layout) NewEncoder() *Encoder { return &Encoder{l: l} }

// copyHeader is the binary COPY signature, flags and header extension
// length.
var copyHeader = []byte("PGCOPY\n\377\r\n\000\000\000\000\000\000\000\000\000")

// AppendHeader appends the binary COPY header.
func AppendHeader(dst []byte) []byte { return append(dst, copyHeader...) }

// AppendTrailer appends the binary COPY trailer (a field count of -1).
func AppendTrailer(dst []byte) []byte { return binary.BigEndian.AppendUint16(dst, 0xffff) }

// AppendRow appends r (of the layout's kind) as one binary COPY tuple.
func (e *Encoder) AppendRow(dst []byte, r engine.Record) ([]byte, error) {
	if r.Kind() != e.l.kind {
		return nil, fmt.Errorf("copyenc: a %s record in a layout of %s", r.Kind(), e.l.kind)
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(e.l.cols)))
	if len(e.l.pgxCols) > 0 {
		e.vals = r.AppendValues(e.vals[:0])
		e.row = e.l.m.Row(e.row[:0], e.vals)
	}
	for i := range e.l.cols {
		c := &e.l.cols[i]
		if c.enc == encPgx {
			var err error
			if dst, err = e.appendPgx(dst, c); err != nil {
				return nil, err
			}
			continue
		}
		dst = e.appendFast(dst, c, r)
	}
	return dst, nil
}

// appendFast appends one field: its length word (-1 for NULL) and bytes.
func (e *Encoder) appendFast(dst []byte, c *column, r engine.Record) []byte {
	switch c.enc {
	case encNumeric, encInt4, encInt8, encFloat8:
		v, ok := engine.NumAt(r, c.src)
		if !ok {
			return appendNull(dst)
		}
		return e.appendNumber(dst, c, v)
	case encTimestamptz:
		t, ok := engine.TimeAt(r, c.src)
		if !ok {
			return appendNull(dst)
		}
		return appendTimestamptz(dst, t.Unix(), t.Nanosecond())
	case encText:
		s, ok := engine.TextAt(r, c.src)
		if !ok {
			return appendNull(dst)
		}
		return append(binary.BigEndian.AppendUint32(dst, uint32(len(s))), s...)
	case encBool:
		b := byte(0)
		if engine.BoolAt(r, c.src) {
			b = 1
		}
		return append(binary.BigEndian.AppendUint32(dst, 1), b)
	case encJSONB:
		ss, ok := engine.StringsAt(r, c.src)
		if !ok {
			return appendNull(dst)
		}
		return withLength(dst, func(b []byte) []byte { return appendJSONStrings(append(b, 1), ss) })
	}
	return e.appendUser(dst, c, engine.UUIDAt(r, c.src))
}

func (e *Encoder) appendNumber(dst []byte, c *column, v float64) []byte {
	switch c.enc {
	case encInt4:
		return binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(dst, 4), uint32(int32(v)))
	case encInt8:
		return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint32(dst, 8), uint64(int64(v)))
	case encFloat8:
		return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint32(dst, 8), math.Float64bits(v))
	}
	at := len(dst)
	dst = binary.BigEndian.AppendUint32(dst, 0)
	dst, e.scratch = AppendNumeric(dst, e.scratch, v, c.scale)
	binary.BigEndian.PutUint32(dst[at:], uint32(len(dst)-at-4))
	return dst
}

func (e *Encoder) appendUser(dst []byte, c *column, u engine.UUID) []byte {
	switch c.enc {
	case encUserBigint:
		return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint32(dst, 8), uint64(catalog.IDBigint.Int64(u)))
	case encUserText:
		return appendUUIDText(binary.BigEndian.AppendUint32(dst, 36), u)
	}
	return append(binary.BigEndian.AppendUint32(dst, 16), u[:]...)
}

// microsFromUnixToY2K is PostgreSQL's epoch, 2000-01-01, in Unix
// microseconds.
const microsFromUnixToY2K = 946_684_800 * 1_000_000

// appendTimestamptz writes microseconds since 2000-01-01 UTC, the
// nanoseconds truncated as pgx truncates them.
func appendTimestamptz(dst []byte, sec int64, nsec int) []byte {
	us := sec*1_000_000 + int64(nsec)/1000 - microsFromUnixToY2K
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint32(dst, 8), uint64(us))
}

func appendNull(dst []byte) []byte { return binary.BigEndian.AppendUint32(dst, 0xffffffff) }

// withLength appends a length word and what body appends, then sets the
// word.
func withLength(dst []byte, body func([]byte) []byte) []byte {
	at := len(dst)
	dst = body(binary.BigEndian.AppendUint32(dst, 0))
	binary.BigEndian.PutUint32(dst[at:], uint32(len(dst)-at-4))
	return dst
}

const hexDigits = "0123456789abcdef"

// appendUUIDText appends u in the canonical 8-4-4-4-12 form, as
// engine.UUID.String gives it.
func appendUUIDText(dst []byte, u engine.UUID) []byte {
	for i, b := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hexDigits[b>>4], hexDigits[b&0xf])
	}
	return dst
}

// appendJSONStrings appends ss as a JSON array of strings. Invalid UTF-8
// becomes U+FFFD, as encoding/json (pgx's marshaller) makes it, so the
// stored jsonb is the same.
func appendJSONStrings(dst []byte, ss []string) []byte {
	dst = append(dst, '[')
	for i, s := range ss {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, s)
	}
	return append(dst, ']')
}

func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}

// appendPgx appends one field as pgx's CopyFrom encodes it: the type map's
// binary encoder for the column's type, or, where it has none for the
// value (a string for an enum, say), the value read as text for that type
// and encoded from there.
func (e *Encoder) appendPgx(dst []byte, c *column) ([]byte, error) {
	if e.tm == nil {
		// Its own map, not the connection's: pgconn reads COPY data on a
		// goroutine of its own, which may outlive a failed CopyFrom.
		e.tm = pgtype.NewMap()
	}
	v := e.row[c.live]
	at := len(dst)
	dst = appendNull(dst)
	out, err := e.tm.Encode(c.oid, pgtype.BinaryFormatCode, v, dst)
	if err != nil {
		if out, err = encodeViaText(e.tm, dst, c.oid, v); err != nil {
			return nil, fmt.Errorf("copyenc: column %s: %w", c.name, err)
		}
	}
	if out == nil { // NULL: keep the -1
		return dst, nil
	}
	binary.BigEndian.PutUint32(out[at:], uint32(len(out)-at-4))
	return out, nil
}

func encodeViaText(tm *pgtype.Map, buf []byte, oid uint32, v any) ([]byte, error) {
	s, ok := v.(string)
	if !ok {
		text, err := tm.Encode(oid, pgtype.TextFormatCode, v, nil)
		if err != nil {
			return nil, fmt.Errorf("%T for type %d: %w", v, oid, err)
		}
		s = string(text)
	}
	var parsed any
	if err := tm.Scan(oid, pgtype.TextFormatCode, []byte(s), &parsed); err != nil {
		return nil, fmt.Errorf("%T for type %d: %w", v, oid, err)
	}
	return tm.Encode(oid, pgtype.BinaryFormatCode, parsed, buf)
}
