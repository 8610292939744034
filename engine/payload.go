package engine

import (
	"errors"
	"fmt"
	"io"

	"github.com/go-json-experiment/json/jsontext"
)

// MaxStringBytes is the longest string field the decoder accepts (source,
// notes, types, ...). Longer strings reject the record, not the file.
const MaxStringBytes = 64 << 10

// DecodeOptions configures DecodePayload.
type DecodeOptions struct {
	// BatchSize is the number of items handed to the callback at a time;
	// 0 means 1000.
	BatchSize int
	// DefaultUser is used for records without a user_id (the service took
	// the user from the API key). If zero, such records are rejected.
	DefaultUser UUID
}

// Decoded is one record of a payload: either Record or Err is set.
type Decoded struct {
	Index  int    // position among all records of the file, from 0
	Type   string // the payload type tag, e.g. "HeartRate"
	Record Record
	Err    *RecordError
}

// RecordError says why one record was rejected.
type RecordError struct {
	Index int    // position among all records of the file
	Array string // "metrics", "workouts", ...
	Pos   int    // position in that array
	Type  string // type tag if known
	Field string // offending field if any
	Msg   string // with Field, the reason it is counted under: bounded
	// Detail says more (a member's name, a value's size); it is in the
	// one-line message, not in the reason.
	Detail string
}

// Error formats e as one line, e.g.
// `record 12 (metrics[12], HeartRate): heart_rate: want a number, got string "abc"`.
func (e *RecordError) Error() string {
	where := fmt.Sprintf("record %d (%s[%d]", e.Index, e.Array, e.Pos)
	if e.Type != "" {
		where += ", " + truncate(e.Type, 64)
	}
	where += ")"
	msg := e.Msg
	if e.Detail != "" {
		msg += " (" + e.Detail + ")"
	}
	if e.Field != "" {
		return where + ": " + e.Field + ": " + msg
	}
	return where + ": " + msg
}

// DecodeSummary accounts for every record of a payload:
// Received = Decoded + Rejected + sum(Unsupported).
type DecodeSummary struct {
	Received int
	Decoded  int
	Rejected int
	// Unsupported counts records per type tag (or array name): the first
	// MaxUnsupportedTypes distinct ones by name, any further under
	// OtherTypes, so a file of endless distinct tags keeps a few counters.
	Unsupported map[string]int
}

// MaxUnsupportedTypes is how many distinct unsupported type tags a summary
// names; records of further tags count under OtherTypes.
const MaxUnsupportedTypes = 20

// OtherTypes is the name unsupported records of tags past the first
// MaxUnsupportedTypes count under. A real tag of that name counts there too.
const OtherTypes = "(other types)"

// arrayTypes maps the data arrays whose records carry no type tag to the
// type they hold (the service's IngestData had per-type arrays).
var arrayTypes = map[string]string{
	"workouts":          "Workout",
	"nutrition_metrics": "Nutrition",
	"symptom_metrics":   "Symptom",
}

// DecodePayload streams an ingest payload,
// {"data": {"metrics": [{"type": ...}, ...], "workouts": [...]}}, and calls
// fn with batches of decoded records and per-record errors, in file order.
// Memory stays bounded by one batch plus one record whatever the file
// holds: no value is held past MaxValueBytes (capReader), no record past
// maxRecordBytes, no batch past maxBatchBytes (it is handed on with fewer
// records), and unsupported records are only counted.
// The batch slice is reused: fn must not keep it.
//
// A bad record is reported in its Decoded.Err and decoding goes on. A
// malformed file (empty, null, not an object, truncated, trailing data)
// returns an error naming the byte offset, after fn has received every
// record decoded before the fault. An error from fn stops decoding and is
// returned.
func DecodePayload(r io.Reader, opts DecodeOptions, fn func(batch []Decoded) error) (DecodeSummary, error) {
	return decodeCapped(newCapReader(r, MaxValueBytes, maxSpaceBytes), opts, fn)
}

// decodeCapped is DecodePayload reading through cr, whose caps tests lower.
func decodeCapped(cr *capReader, opts DecodeOptions, fn func(batch []Decoded) error) (DecodeSummary, error) {
	if opts.BatchSize <= 0 {
		opts.BatchSize = 1000
	}
	// Duplicate member names and invalid UTF-8 are accepted, as the
	// ingest service's decoder accepted them: the first of two duplicates
	// is used, and invalid bytes become U+FFFD.
	dec := jsontext.NewDecoder(cr, jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	cr.dec = dec
	p := &parser{dec: dec, cr: cr, opts: opts, fn: fn, sum: DecodeSummary{Unsupported: map[string]int{}}}
	p.batch = make([]Decoded, 0, opts.BatchSize)
	err := p.file()
	if ferr := p.flush(); err == nil {
		err = ferr
	}
	return p.sum, err
}

type parser struct {
	dec    *jsontext.Decoder
	cr     *capReader
	opts   DecodeOptions
	fn     func([]Decoded) error
	batch  []Decoded
	sum    DecodeSummary
	fields []field
	budget int // bytes the current record may still hold
	// batchBytes is what the records of the batch hold (maxBatchBytes).
	batchBytes int
	over       string // why the current record is rejected, once it is
	detail     string // more about over
	index      int
	cbErr      error
}

// errCallback marks an error returned by the callback, passed through as is.
type errCallback struct{ err error }

func (e errCallback) Error() string { return e.err.Error() }

func (p *parser) fileError(what string, err error) error {
	var cb errCallback
	if errors.As(err, &cb) {
		return cb.err
	}
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("payload: %s at byte %d (after %d records): %w", what, p.cr.fileOffset(p.dec.InputOffset()), p.sum.Received, err)
}

func (p *parser) file() error {
	tok, err := p.dec.ReadToken()
	switch {
	case errors.Is(err, io.EOF):
		return errors.New("payload: empty file, want a JSON object with a \"data\" member")
	case err != nil:
		return p.fileError("malformed JSON", err)
	case tok.Kind() == 'n':
		return errors.New("payload: the file is JSON null, want an object with a \"data\" member")
	case tok.Kind() != '{':
		return fmt.Errorf("payload: the file is a JSON %s, want an object with a \"data\" member", describe(tok.Kind()))
	}
	sawData := false
	for p.more() {
		key, err := p.key()
		if err != nil {
			return p.fileError("malformed JSON", err)
		}
		if key != "data" {
			err = p.dec.SkipValue()
		} else {
			sawData = true
			err = p.data()
		}
		if err != nil {
			return p.fileError("malformed JSON", err)
		}
	}
	if err := p.end(); err != nil {
		return err
	}
	if !sawData {
		return errors.New("payload: no \"data\" member")
	}
	return nil
}

// more reports whether the current object or array has another member. On
// a syntax error it reports false, and the read that follows returns it.
func (p *parser) more() bool {
	k := p.dec.PeekKind()
	return k != '}' && k != ']' && k != jsontext.KindInvalid
}

// end consumes the closing brace and insists on nothing after it.
func (p *parser) end() error {
	if _, err := p.dec.ReadToken(); err != nil {
		return p.fileError("malformed JSON", err)
	}
	if _, err := p.dec.ReadToken(); !errors.Is(err, io.EOF) {
		return p.fileError("trailing data after the payload object", errors.New("unexpected content"))
	}
	return nil
}

func (p *parser) data() error {
	switch k := p.dec.PeekKind(); k {
	case '{':
	case 'n':
		_, err := p.dec.ReadToken()
		return err
	case jsontext.KindInvalid:
		_, err := p.dec.ReadToken()
		return err
	default:
		return fmt.Errorf("\"data\" is a JSON %s, want an object", describe(k))
	}
	if _, err := p.dec.ReadToken(); err != nil {
		return err
	}
	for p.more() {
		key, err := p.key()
		if err != nil {
			return err
		}
		if err := p.array(key); err != nil {
			return err
		}
	}
	_, err := p.dec.ReadToken()
	return err
}

func (p *parser) key() (string, error) {
	tok, err := p.dec.ReadToken()
	if err != nil {
		return "", err
	}
	return tok.String(), nil
}

// array decodes one member of "data". metrics records carry their type;
// the per-type arrays imply it; any other array counts as unsupported
// records named after the array. A member that is not an array carries no
// records.
func (p *parser) array(name string) error {
	if p.dec.PeekKind() != '[' {
		return p.dec.SkipValue()
	}
	if _, err := p.dec.ReadToken(); err != nil {
		return err
	}
	implied, known := arrayTypes[name]
	for pos := 0; p.more(); pos++ {
		if name != "metrics" && !known {
			p.unsupported(name)
			if err := p.dec.SkipValue(); err != nil {
				return err
			}
			continue
		}
		if err := p.record(name, pos, implied); err != nil {
			return err
		}
	}
	_, err := p.dec.ReadToken()
	return err
}

func (p *parser) unsupported(typ string) {
	p.sum.Received++
	p.index++
	name := truncate(typ, 64)
	if _, named := p.sum.Unsupported[name]; !named && p.namedUnsupported() >= MaxUnsupportedTypes {
		name = OtherTypes
	}
	p.sum.Unsupported[name]++
}

// namedUnsupported is how many unsupported tags the summary names.
func (p *parser) namedUnsupported() int {
	if _, ok := p.sum.Unsupported[OtherTypes]; ok {
		return len(p.sum.Unsupported) - 1
	}
	return len(p.sum.Unsupported)
}

func (p *parser) emit(d Decoded) error {
	p.sum.Received++
	p.index++
	if d.Err != nil {
		p.sum.Rejected++
	} else {
		p.sum.Decoded++
	}
	p.batch = append(p.batch, d)
	p.batchBytes += maxRecordBytes - p.budget
	if len(p.batch) >= p.opts.BatchSize || p.batchBytes >= maxBatchBytes {
		return p.flush()
	}
	return nil
}

func (p *parser) flush() error {
	if len(p.batch) == 0 || p.cbErr != nil {
		return nil
	}
	err := p.fn(p.batch)
	clear(p.batch)
	p.batch, p.batchBytes = p.batch[:0], 0
	if err != nil {
		p.cbErr = err
		return errCallback{err}
	}
	return nil
}

// describe names a JSON kind for messages.
func describe(k jsontext.Kind) string {
	switch k {
	case 'n':
		return "null"
	case 't', 'f':
		return "boolean"
	case '0':
		return "number"
	case '"':
		return "string"
	case '[':
		return "array"
	case '{':
		return "object"
	}
	return "invalid value"
}
