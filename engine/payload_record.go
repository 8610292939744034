package engine

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// field is one member of a record object. val is string, number, bool,
// nil, []string, or one of the markers below for shapes no column takes.
type field struct {
	key string
	val any
}

type (
	// number is a JSON number's text, parsed only by the column that
	// reads it, so that range errors can quote it.
	number      string
	objectValue struct{}
	mixedArray  struct{}
	// cut is a string or number longer than MaxValueBytes, of which only
	// the size is kept.
	cut struct {
		kind jsontext.Kind
		size int64
	}
)

// maxRecordBytes bounds what one record's members may hold (names, strings
// and numbers, plus fieldOverhead each); past it the rest of the record is
// skipped and the record rejected. The "type" member is kept regardless, so
// that such a record of an unsupported type still counts as unsupported.
// maxBatchBytes bounds what the records of one batch hold: a batch is
// handed on early when its records hold more, so a batch of fat records
// is not --batch-size times 1 MiB (a batch of 300 records of 660 KB took
// 282 MB RSS in hmperf ingest, 75 MB with this bound).
const (
	maxRecordBytes = 1 << 20
	fieldOverhead  = 32
	maxBatchBytes  = 4 << 20
)

// record reads one array element. Syntax errors end the file; anything
// else rejects only this record.
func (p *parser) record(array string, pos int, implied string) error {
	rerr := &RecordError{Index: p.index, Array: array, Pos: pos, Type: implied}
	p.budget, p.over, p.detail = maxRecordBytes, "", ""
	if k := p.dec.PeekKind(); k != '{' {
		if err := p.dec.SkipValue(); err != nil {
			return err
		}
		rerr.Msg = "want an object, got " + describe(k)
		return p.emit(Decoded{Index: rerr.Index, Err: rerr})
	}
	if err := p.readFields(); err != nil {
		return err
	}
	typ := implied
	if typ == "" {
		var msg string
		typ, msg = p.typeTag()
		if msg != "" {
			rerr.Field, rerr.Msg = "type", msg
			return p.emit(Decoded{Index: rerr.Index, Err: rerr})
		}
		rerr.Type = typ
	}
	kind, err := ParseKind(typ)
	if err != nil || kind.PayloadType() != typ {
		p.unsupported(typ)
		return nil
	}
	if p.over != "" {
		rerr.Msg, rerr.Detail = p.over, p.detail
		return p.emit(Decoded{Index: rerr.Index, Type: typ, Err: rerr})
	}
	fr := fieldReader{fields: p.fields, defaultUser: p.opts.DefaultUser}
	rec := buildRecord(kind, &fr)
	if fr.err != nil {
		rerr.Field, rerr.Msg = fr.errField, fr.err.Error()
		return p.emit(Decoded{Index: rerr.Index, Type: typ, Err: rerr})
	}
	return p.emit(Decoded{Index: rerr.Index, Type: typ, Record: rec})
}

// readFields collects the members of the object that comes next into
// p.fields. Once the record is rejected (p.over) it keeps only a first
// "type" member and skips the others.
func (p *parser) readFields() error {
	p.fields = p.fields[:0]
	typed := false
	if _, err := p.dec.ReadToken(); err != nil { // '{'
		return err
	}
	for p.more() {
		key, err := p.key()
		if err != nil {
			return err
		}
		if size, isCut := p.cutSize(); isCut {
			p.reject("member name over the size limit", fmt.Sprintf("a name of %d bytes; the limit is %d KiB", size, MaxValueBytes>>10))
		}
		keep := p.over == "" || key == "type" && !typed
		if !keep {
			if err := p.dec.SkipValue(); err != nil {
				return err
			}
			continue
		}
		val, err := p.value()
		if err != nil {
			return err
		}
		p.keep(key, val)
		typed = typed || key == "type"
	}
	_, err := p.dec.ReadToken() // '}'
	return err
}

// keep adds a member to p.fields, or rejects the record if the member's
// value was cut or the record holds too much already.
func (p *parser) keep(key string, val any) {
	if c, isCut := val.(cut); isCut && key != "type" {
		p.reject("value over the size limit", fmt.Sprintf("member %q: a %s of %d bytes; the limit is %d KiB",
			truncate(key, 64), describe(c.kind), c.size, MaxValueBytes>>10))
		return
	}
	if !p.spend(len(key)+scalarSize(val)) && key != "type" {
		p.reject("record over the size limit", fmt.Sprintf("more than %d KiB of members", maxRecordBytes>>10))
		return
	}
	p.fields = append(p.fields, field{key, val})
}

// reject marks the record being read as rejected, with the first reason.
func (p *parser) reject(msg, detail string) {
	if p.over == "" {
		p.over, p.detail = msg, detail
	}
}

// spend takes n bytes and a member's overhead from the record's budget
// and reports whether it was not exhausted.
func (p *parser) spend(n int) bool {
	p.budget -= n + fieldOverhead
	return p.budget >= 0
}

// scalarSize is what a member value holds in memory beyond its overhead
// (string arrays spend as they are read).
func scalarSize(v any) int {
	switch v := v.(type) {
	case string:
		return len(v)
	case number:
		return len(v)
	}
	return 0
}

// cutSize reports the full size of the token just read, if capReader cut
// it short.
func (p *parser) cutSize() (int64, bool) { return p.cr.takeCut(p.dec.InputOffset()) }

// value reads one member value: scalars as they are, an array of strings
// as []string, other shapes as markers.
func (p *parser) value() (any, error) {
	switch p.dec.PeekKind() {
	case '{':
		return objectValue{}, p.dec.SkipValue()
	case '[':
		return p.stringArray()
	}
	tok, err := p.dec.ReadToken()
	if err != nil {
		return nil, err
	}
	if size, isCut := p.cutSize(); isCut {
		return cut{tok.Kind(), size}, nil
	}
	switch tok.Kind() {
	case '"':
		return tok.String(), nil
	case '0':
		return number(tok.String()), nil
	case 't', 'f':
		return tok.Bool(), nil
	}
	return nil, nil // null
}

// stringArray reads an array, keeping it only if every element is a string
// and the record's budget holds it.
func (p *parser) stringArray() (any, error) {
	if _, err := p.dec.ReadToken(); err != nil { // '['
		return nil, err
	}
	out := []string{}
	var mixed bool
	for p.more() {
		if mixed || p.dec.PeekKind() != '"' {
			mixed = true
			if err := p.dec.SkipValue(); err != nil {
				return nil, err
			}
			continue
		}
		tok, err := p.dec.ReadToken()
		if err != nil {
			return nil, err
		}
		if _, isCut := p.cutSize(); isCut || !p.spend(len(tok.String())) {
			p.reject("record over the size limit", fmt.Sprintf("more than %d KiB of members", maxRecordBytes>>10))
			mixed = true
			continue
		}
		out = append(out, tok.String())
	}
	if _, err := p.dec.ReadToken(); err != nil { // ']'
		return nil, err
	}
	if mixed {
		return mixedArray{}, nil
	}
	return out, nil
}

func (p *parser) typeTag() (string, string) {
	for _, f := range p.fields {
		if f.key == "type" {
			s, ok := f.val.(string)
			c, isCut := f.val.(cut)
			switch {
			case isCut:
				return "", fmt.Sprintf("type tag of %d bytes", c.size)
			case !ok:
				return "", "want a string type tag, got " + describeVal(f.val)
			case s == "":
				return "", "empty type tag"
			case len(s) > 256:
				return "", fmt.Sprintf("type tag of %d bytes", len(s))
			}
			return s, ""
		}
	}
	return "", "missing type tag"
}

// describeVal names the JSON kind of a field value for messages.
func describeVal(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case number:
		return "number"
	case string:
		return "string"
	case objectValue:
		return "object"
	case []string, mixedArray:
		return "array"
	case cut:
		return describe(v.kind)
	}
	return fmt.Sprintf("%T", v)
}

// fieldReader extracts typed columns from a record's fields, keeping the
// first error.
type fieldReader struct {
	fields      []field
	defaultUser UUID
	err         error
	errField    string
}

func (fr *fieldReader) fail(name string, err error) {
	if fr.err == nil {
		fr.err, fr.errField = err, name
	}
}

// lookup returns the first present field among names (aliases).
func (fr *fieldReader) lookup(names ...string) (string, any, bool) {
	for _, n := range names {
		for _, f := range fr.fields {
			if f.key == n {
				return n, f.val, true
			}
		}
	}
	return names[0], nil, false
}

func (fr *fieldReader) user() UUID {
	name, v, ok := fr.lookup("user_id")
	if !ok || v == nil {
		if fr.defaultUser.IsZero() {
			fr.fail(name, errMissing)
		}
		return fr.defaultUser
	}
	s, isStr := v.(string)
	if !isStr {
		fr.fail(name, fmt.Errorf("want a UUID string, got %s", describeVal(v)))
		return UUID{}
	}
	u, err := ParseUUID(s)
	if err != nil {
		fr.fail(name, err)
	}
	return u
}

// Accepted timestamp layouts: RFC 3339 with any offset and optional
// fractional seconds, and the Apple Health export style.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05 -0700"}

func (fr *fieldReader) time(required bool, names ...string) time.Time {
	name, v, ok := fr.lookup(names...)
	if !ok || v == nil {
		if required {
			fr.fail(name, errMissing)
		}
		return time.Time{}
	}
	s, isStr := v.(string)
	if !isStr {
		fr.fail(name, fmt.Errorf("want a timestamp string, got %s", describeVal(v)))
		return time.Time{}
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	fr.fail(name, fmt.Errorf("unrecognized timestamp %q (want RFC 3339 like 2025-09-09T05:06:07Z or 2025-09-09 05:06:07 -0700)", truncate(s, 64)))
	return time.Time{}
}

// number parses a JSON number. Overflow (1e400) is an error, not ±Inf, and
// -0 becomes 0 since NUMERIC has no negative zero.
func (fr *fieldReader) number(name string, v any) (float64, bool) {
	n, ok := v.(number)
	if !ok {
		fr.fail(name, fmt.Errorf("want a number, got %s%s", describeVal(v), quoted(v)))
		return 0, false
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsInf(f, 0) {
		fr.fail(name, fmt.Errorf("number %s out of range", truncate(string(n), 32)))
		return 0, false
	}
	if f == 0 {
		f = 0
	}
	return f, true
}

func quoted(v any) string {
	if s, ok := v.(string); ok {
		return " " + strconv.Quote(truncate(s, 32))
	}
	return ""
}

func (fr *fieldReader) float(names ...string) Opt[float64] {
	name, v, ok := fr.lookup(names...)
	if !ok || v == nil {
		return Opt[float64]{}
	}
	f, ok := fr.number(name, v)
	if !ok {
		return Opt[float64]{}
	}
	return Some(f)
}

// int parses an INTEGER column: whole numbers within int32 only, so a huge
// value never wraps into a valid one.
func (fr *fieldReader) int(names ...string) Opt[int32] {
	name, v, ok := fr.lookup(names...)
	if !ok || v == nil {
		return Opt[int32]{}
	}
	f, ok := fr.number(name, v)
	switch {
	case !ok:
		return Opt[int32]{}
	case f != math.Trunc(f):
		fr.fail(name, fmt.Errorf("want a whole number, got %s", v))
		return Opt[int32]{}
	case f < math.MinInt32 || f > math.MaxInt32:
		fr.fail(name, fmt.Errorf("number %s out of range for an integer column", truncate(string(v.(number)), 32)))
		return Opt[int32]{}
	}
	return Some(int32(f))
}

func (fr *fieldReader) requiredInt(name string) int32 {
	o := fr.int(name)
	if !o.Valid && fr.err == nil {
		fr.fail(name, errMissing)
	}
	return o.V
}

func (fr *fieldReader) str(names ...string) string {
	name, v, ok := fr.lookup(names...)
	if !ok || v == nil {
		return ""
	}
	s, isStr := v.(string)
	switch {
	case !isStr:
		fr.fail(name, fmt.Errorf("want a string, got %s", describeVal(v)))
		return ""
	case len(s) > MaxStringBytes:
		fr.fail(name, fmt.Errorf("string of %d bytes exceeds the %d KiB limit", len(s), MaxStringBytes>>10))
		return ""
	}
	return s
}

func (fr *fieldReader) bool(names ...string) bool {
	name, v, ok := fr.lookup(names...)
	if !ok || v == nil {
		return false // the column default
	}
	b, isBool := v.(bool)
	if !isBool {
		fr.fail(name, fmt.Errorf("want true or false, got %s", describeVal(v)))
	}
	return b
}

func (fr *fieldReader) strings(name string) []string {
	_, v, ok := fr.lookup(name)
	if !ok || v == nil {
		return nil
	}
	ss, isArr := v.([]string)
	if !isArr {
		fr.fail(name, fmt.Errorf("want an array of strings, got %s", describeVal(v)))
		return nil
	}
	for _, s := range ss {
		if len(s) > MaxStringBytes {
			fr.fail(name, fmt.Errorf("element of %d bytes exceeds the %d KiB limit", len(s), MaxStringBytes>>10))
			return nil
		}
	}
	return ss
}

func (fr *fieldReader) source() string { return fr.str("source_device", "source") }

var errMissing = errors.New("missing")
