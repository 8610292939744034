package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	Msg   string
}

// Error formats e as one line, e.g.
// `record 12 (metrics[12], HeartRate): heart_rate: want a number, got string "abc"`.
func (e *RecordError) Error() string {
	where := fmt.Sprintf("record %d (%s[%d]", e.Index, e.Array, e.Pos)
	if e.Type != "" {
		where += ", " + truncate(e.Type, 64)
	}
	where += ")"
	if e.Field != "" {
		return where + ": " + e.Field + ": " + e.Msg
	}
	return where + ": " + e.Msg
}

// DecodeSummary accounts for every record of a payload:
// Received = Decoded + Rejected + sum(Unsupported).
type DecodeSummary struct {
	Received    int
	Decoded     int
	Rejected    int
	Unsupported map[string]int // per type tag (or array name)
}

// arrayTypes maps the data arrays whose records carry no type tag to the
// type they hold (§7.4: the service's IngestData had per-type arrays).
var arrayTypes = map[string]string{
	"workouts":          "Workout",
	"nutrition_metrics": "Nutrition",
	"symptom_metrics":   "Symptom",
}

// DecodePayload streams an ingest payload,
// {"data": {"metrics": [{"type": ...}, ...], "workouts": [...]}}, and calls
// fn with batches of decoded records and per-record errors, in file order.
// Memory stays bounded by one batch plus one record whatever the file size.
// The batch slice is reused: fn must not keep it.
//
// A bad record is reported in its Decoded.Err and decoding goes on. A
// malformed file (empty, null, not an object, truncated, trailing data)
// returns an error naming the byte offset, after fn has received every
// record decoded before the fault. An error from fn stops decoding and is
// returned.
func DecodePayload(r io.Reader, opts DecodeOptions, fn func(batch []Decoded) error) (DecodeSummary, error) {
	if opts.BatchSize <= 0 {
		opts.BatchSize = 1000
	}
	p := &parser{dec: json.NewDecoder(r), opts: opts, fn: fn, sum: DecodeSummary{Unsupported: map[string]int{}}}
	p.dec.UseNumber()
	p.batch = make([]Decoded, 0, opts.BatchSize)
	err := p.file()
	if ferr := p.flush(); err == nil {
		err = ferr
	}
	return p.sum, err
}

type parser struct {
	dec    *json.Decoder
	opts   DecodeOptions
	fn     func([]Decoded) error
	batch  []Decoded
	sum    DecodeSummary
	fields []field
	index  int
	cbErr  error
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
	return fmt.Errorf("payload: %s at byte %d (after %d records): %w", what, p.dec.InputOffset(), p.sum.Received, err)
}

func (p *parser) file() error {
	tok, err := p.dec.Token()
	switch {
	case errors.Is(err, io.EOF):
		return errors.New("payload: empty file, want a JSON object with a \"data\" member")
	case err != nil:
		return p.fileError("malformed JSON", err)
	case tok == nil:
		return errors.New("payload: the file is JSON null, want an object with a \"data\" member")
	case tok != json.Delim('{'):
		return fmt.Errorf("payload: the file is a JSON %s, want an object with a \"data\" member", describe(tok))
	}
	sawData := false
	for p.dec.More() {
		key, err := p.key()
		if err != nil {
			return p.fileError("malformed JSON", err)
		}
		if key != "data" {
			err = p.skip()
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

// end consumes the closing brace and insists on nothing after it.
func (p *parser) end() error {
	if _, err := p.dec.Token(); err != nil {
		return p.fileError("malformed JSON", err)
	}
	if _, err := p.dec.Token(); !errors.Is(err, io.EOF) {
		return p.fileError("trailing data after the payload object", errors.New("unexpected content"))
	}
	return nil
}

func (p *parser) data() error {
	tok, err := p.dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		return nil
	}
	if tok != json.Delim('{') {
		return fmt.Errorf("\"data\" is a JSON %s, want an object", describe(tok))
	}
	for p.dec.More() {
		key, err := p.key()
		if err != nil {
			return err
		}
		if err := p.array(key); err != nil {
			return err
		}
	}
	_, err = p.dec.Token()
	return err
}

func (p *parser) key() (string, error) {
	tok, err := p.dec.Token()
	if err != nil {
		return "", err
	}
	s, _ := tok.(string)
	return s, nil
}

// array decodes one member of "data". metrics records carry their type;
// the per-type arrays imply it; any other array counts as unsupported
// records named after the array.
func (p *parser) array(name string) error {
	tok, err := p.dec.Token()
	if err != nil || tok == nil {
		return err
	}
	if tok != json.Delim('[') {
		if d, ok := tok.(json.Delim); ok {
			return p.skipNested(d)
		}
		return nil // a scalar member of data carries no records
	}
	implied, known := arrayTypes[name]
	for pos := 0; p.dec.More(); pos++ {
		if name != "metrics" && !known {
			p.unsupported(name)
			if err := p.skip(); err != nil {
				return err
			}
			continue
		}
		if err := p.record(name, pos, implied); err != nil {
			return err
		}
	}
	_, err = p.dec.Token()
	return err
}

func (p *parser) unsupported(typ string) {
	p.sum.Received++
	p.index++
	p.sum.Unsupported[truncate(typ, 64)]++
}

// skip consumes one value of any shape.
func (p *parser) skip() error {
	tok, err := p.dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); ok {
		return p.skipNested(d)
	}
	return nil
}

// skipNested consumes the rest of an object or array whose opening
// delimiter has been read.
func (p *parser) skipNested(open json.Delim) error {
	if open != '{' && open != '[' {
		return nil
	}
	for depth := 1; depth > 0; {
		tok, err := p.dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
	return nil
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
	if len(p.batch) >= p.opts.BatchSize {
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
	p.batch = p.batch[:0]
	if err != nil {
		p.cbErr = err
		return errCallback{err}
	}
	return nil
}

func describe(tok json.Token) string {
	switch v := tok.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	case string:
		return "string"
	case json.Delim:
		if v == '[' {
			return "array"
		}
		return "object"
	}
	return fmt.Sprintf("%T", tok)
}
