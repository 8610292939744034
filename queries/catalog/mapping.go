package catalog

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"hmperf/engine"
)

// IDType is how a live table stores user ids. The engine's ids are UUIDs;
// a table keyed by bigint or text gets them converted, the same engine id
// always to the same live id.
type IDType int

// The user id types hmperf can write.
const (
	IDUUID IDType = iota
	IDBigint
	IDText
)

// idTypeOf reads the id type of a user id column.
func idTypeOf(table string, c Column) (IDType, error) {
	switch c.Type {
	case "uuid":
		return IDUUID, nil
	case "bigint":
		return IDBigint, nil
	case "text", "character varying", "citext":
		return IDText, nil
	}
	if strings.HasPrefix(c.Type, "character varying(") {
		return IDText, nil
	}
	return 0, fmt.Errorf("%s.%s has type %s; hmperf writes user ids as uuid, bigint or text", table, c.Name, c.Type)
}

// SQL is the type's name in a cast.
func (k IDType) SQL() string {
	switch k {
	case IDBigint:
		return "bigint"
	case IDText:
		return "text"
	}
	return "uuid"
}

// Value converts an engine id to the live type. A bigint id is the UUID's
// first 63 bits: deterministic, so a user generated twice is one user, and
// positive, as serial ids are.
func (k IDType) Value(u [16]byte) any {
	switch k {
	case IDBigint:
		return k.Int64(u)
	case IDText:
		return engine.UUID(u).String()
	}
	return u
}

// Int64 is the bigint id of u (Value for IDBigint, unboxed): the UUID's
// first 63 bits.
func (IDType) Int64(u [16]byte) int64 { return int64(binary.BigEndian.Uint64(u[:8]) &^ (1 << 63)) }

// Text is the live id of u as PostgreSQL prints it (id::text).
func (k IDType) Text(u engine.UUID) string {
	if k == IDBigint {
		return strconv.FormatInt(k.Value(u).(int64), 10)
	}
	return u.String()
}

// FromText is the engine id whose live id prints as s: Value's inverse.
// A bigint id is kept in the first 8 bytes, which Value reads back; a text
// id must be a UUID.
func (k IDType) FromText(s string) (engine.UUID, bool) {
	if k == IDBigint {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return engine.UUID{}, false
		}
		var u engine.UUID
		binary.BigEndian.PutUint64(u[:8], uint64(n))
		return u, true
	}
	u, err := engine.ParseUUID(s)
	return u, err == nil
}

// Array converts ids to a parameter for an array of the live type.
func (k IDType) Array(ids []engine.UUID) any {
	switch k {
	case IDBigint:
		out := make([]int64, len(ids))
		for i, u := range ids {
			out[i] = k.Value(u).(int64)
		}
		return out
	case IDText:
		out := make([]string, len(ids))
		for i, u := range ids {
			out[i] = u.String()
		}
		return out
	}
	out := make([][16]byte, len(ids))
	for i, u := range ids {
		out[i] = u
	}
	return out
}

// aliases are the other names a live table may give an engine field. The
// exact name wins when both exist.
var aliases = map[string][]string{
	"source":         {"source_device"},
	"efficiency":     {"sleep_efficiency"},
	"avg_heart_rate": {"average_heart_rate"},
}

// LayoutError lists what stops hmperf from writing a table: every column it
// needs and cannot find or fill, found before anything is written.
type LayoutError struct {
	Table    string   // schema-qualified
	Problems []string // "column: what is wrong"
}

func (e *LayoutError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = e.Table + "." + p
	}
	return "cannot write " + e.Table + ": " + strings.Join(parts, "; ")
}

// Mapping says how the records of one engine table land in a live table.
//
// Fields the engine may leave NULL and the live table has no column for
// are dropped and counted (Dropped): the service's own tables do not store
// some of them (heart-rate variability, for one), and a DBA importing a
// payload wants the rows the service would have stored, with a count of
// what was left out, not a refusal of the whole file. A field the engine
// always has a value for (NOT NULL in hmperf's records, or part of the
// dedup key) has no such excuse: its absence is a LayoutError.
type Mapping struct {
	Table   *Table
	Columns []string // live columns written, in COPY order
	// Key is the ON CONFLICT target in live names, or nil when no unique
	// index covers the engine's dedup key (duplicates across runs are then
	// not caught by the database).
	Key []string
	// Natural is the engine's dedup key in live names, unique index or not:
	// what makes two rows the same record. Where Key is nil, a writer skips
	// the records whose Natural key is already stored itself.
	Natural []string
	// Dropped names the engine fields not stored, as table.column, in the
	// order of the counts CountDropped fills.
	Dropped []string
	UserID  IDType

	eng    *engine.Table
	src    []int // engine value index of each written column
	drop   []int // engine value index of each dropped field
	userAt int   // index in Columns of user_id
	direct bool  // Columns are the engine's, in order, unconverted
}

// Map maps the engine table onto the live table, or returns a LayoutError.
func Map(tbl *engine.Table, live *Table) (*Mapping, error) {
	m := &Mapping{Table: live, eng: tbl, userAt: -1}
	lerr := &LayoutError{Table: live.String()}
	used := map[string]bool{}
	for i, ec := range tbl.Columns {
		lc, ok := liveColumn(live, ec.Name)
		if !ok {
			if !ec.Nullable || isKey(tbl, ec.Name) {
				lerr.Problems = append(lerr.Problems, ec.Name+": no such column (hmperf always has a value for it)")
				continue
			}
			m.drop = append(m.drop, i)
			m.Dropped = append(m.Dropped, live.String()+"."+ec.Name)
			continue
		}
		used[lc.Name] = true
		if ec.Name == "user_id" {
			t, err := idTypeOf(live.String(), lc)
			if err != nil {
				lerr.Problems = append(lerr.Problems, "user_id: "+err.Error())
				continue
			}
			m.UserID, m.userAt = t, len(m.Columns)
		}
		m.src = append(m.src, i)
		m.Columns = append(m.Columns, lc.Name)
	}
	for _, c := range live.Columns {
		if !used[c.Name] && !c.Filled() {
			lerr.Problems = append(lerr.Problems, c.Name+": NOT NULL without a default, and hmperf has no value for it")
		}
	}
	if len(lerr.Problems) > 0 {
		return nil, lerr
	}
	m.Natural, _ = NaturalKey(tbl, live)
	if live.HasUniqueKey(m.Natural) {
		m.Key = m.Natural
	}
	m.direct = m.UserID == IDUUID && len(m.drop) == 0 && sameNames(m.Columns, tbl.ColumnNames())
	return m, nil
}

// liveColumn finds the live column for an engine field: its own name, or an
// alias. Generated columns cannot be written and count as absent.
func liveColumn(live *Table, name string) (Column, bool) {
	for _, n := range append([]string{name}, aliases[name]...) {
		if c, ok := live.Column(n); ok && !c.Generated {
			return c, true
		}
	}
	return Column{}, false
}

func isKey(tbl *engine.Table, name string) bool {
	for _, k := range tbl.Key {
		if k == name {
			return true
		}
	}
	return false
}

// NaturalKey is the engine's dedup key of tbl in the live table's column
// names (aliases resolved): the columns that say two rows are the same
// record. ok is false when one of them has no live column.
func NaturalKey(tbl *engine.Table, live *Table) (key []string, ok bool) {
	key = make([]string, len(tbl.Key))
	for i, k := range tbl.Key {
		c, found := liveColumn(live, k)
		if !found {
			return nil, false
		}
		key[i] = c.Name
	}
	return key, true
}

func sameNames(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Field is the engine field written to the live column, if one is.
func (m *Mapping) Field(column string) (string, bool) {
	for j, c := range m.Columns {
		if c == column {
			return m.eng.Columns[m.src[j]].Name, true
		}
	}
	return "", false
}

// writesAny reports whether hmperf writes any of the live columns.
func (m *Mapping) writesAny(columns []string) bool {
	for _, c := range columns {
		if _, ok := m.Field(c); ok {
			return true
		}
	}
	return false
}

// Direct reports whether the engine's values can be written as they are:
// the live columns are the engine's, in order, with uuid user ids.
func (m *Mapping) Direct() bool { return m.direct }

// Row appends to dst the live row for the engine values vals (as
// Record.AppendValues gives them).
func (m *Mapping) Row(dst, vals []any) []any {
	if m.direct {
		return append(dst, vals...)
	}
	for j, i := range m.src {
		v := vals[i]
		if j == m.userAt && m.UserID != IDUUID {
			v = m.UserID.Value(v.([16]byte))
		}
		dst = append(dst, v)
	}
	return dst
}

// CountDropped adds to counts (one per Dropped entry) the dropped fields of
// vals that had a value.
func (m *Mapping) CountDropped(vals []any, counts []int) {
	for j, i := range m.drop {
		if vals[i] != nil {
			counts[j]++
		}
	}
}
