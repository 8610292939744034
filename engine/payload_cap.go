package engine

import (
	"bytes"
	"io"

	"github.com/go-json-experiment/json/jsontext"
)

// MaxValueBytes is the most of one string, number or member name the
// decoder holds. The rest of a longer one is read and dropped as it
// arrives (the value is cut short) and its record is rejected with the
// value's full size, so memory stays bounded whatever one value weighs.
const MaxValueBytes = 1 << 20

// maxSpaceBytes is the most of one whitespace run the decoder holds; the
// rest of a longer run is dropped, which changes nothing in the JSON.
const maxSpaceBytes = 64 << 10

// cutValue is the last value capReader cut short.
type cutValue struct {
	end  int64 // the decoder's offset just after the value as it saw it
	size int64 // the value's full size in the file, quotes included
}

// capReader sits between the input and the jsontext decoder, which holds a
// whole token (and the whitespace before it) in its buffer however long it
// is. Before each read it looks at what the decoder holds unread: past the
// caps it drops the rest of a whitespace run, or reads the rest of a string
// or number and hands the decoder a well-formed end instead (cutString,
// cutNumber), recording the cut. Below the caps it only forwards reads.
type capReader struct {
	r       io.Reader
	dec     *jsontext.Decoder
	limit   int    // MaxValueBytes, smaller in tests
	space   int    // maxSpaceBytes, smaller in tests
	carry   []byte // bytes to hand the decoder before reading more
	buf     []byte // backing store of carry
	scratch []byte
	dropped int64 // whitespace bytes dropped so far, for file offsets
	cut     cutValue
}

func newCapReader(r io.Reader, limit, space int) *capReader {
	return &capReader{r: r, limit: limit, space: space}
}

func (c *capReader) Read(p []byte) (int, error) {
	if len(c.carry) > 0 {
		n := copy(p, c.carry)
		c.carry = c.carry[n:]
		return n, nil
	}
	pending := c.dec.UnreadBuffer()
	if len(pending) < c.space {
		return c.r.Read(p)
	}
	ws := leadingSpace(pending)
	tok := pending[ws:]
	switch {
	case len(tok) == 0:
		return c.dropSpace(p)
	case len(tok) < c.limit:
		return c.r.Read(p)
	case tok[0] == '"':
		return c.cutString(p, len(pending), tok[1:])
	case isNumberByte(tok[0]):
		return c.cutNumber(p, len(pending), tok)
	}
	return c.r.Read(p) // not JSON: the decoder has said so already
}

// fileOffset is the position in the file of the decoder's offset off.
func (c *capReader) fileOffset(off int64) int64 { return off + c.dropped }

// takeCut reports the full size of the value the decoder has just read
// (ending at its offset end), if it was cut short.
func (c *capReader) takeCut(end int64) (int64, bool) {
	if c.cut.size == 0 || c.cut.end != end {
		return 0, false
	}
	size := c.cut.size
	c.cut = cutValue{}
	return size, true
}

// leadingSpace counts the whitespace and separators at the start of b.
func leadingSpace(b []byte) int {
	for i, ch := range b {
		if !isSpace(ch) && ch != ',' && ch != ':' {
			return i
		}
	}
	return len(b)
}

func isSpace(ch byte) bool { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' }

func isNumberByte(ch byte) bool {
	return ch >= '0' && ch <= '9' || ch == '-' || ch == '+' || ch == '.' || ch == 'e' || ch == 'E'
}

// dropSpace reads into p, dropping whitespace until something else comes.
func (c *capReader) dropSpace(p []byte) (int, error) {
	for {
		n, err := c.r.Read(p)
		i := 0
		for i < n && isSpace(p[i]) {
			i++
		}
		c.dropped += int64(i)
		if i < n {
			return copy(p, p[i:n]), nil
		}
		if err != nil {
			return 0, err
		}
	}
}

// cutString skips the rest of a string whose first bytes (after the
// quote, body) the decoder holds, and hands it an ending that completes an
// escape cut in two, then the closing quote.
func (c *capReader) cutString(p []byte, pending int, body []byte) (int, error) {
	fix := escapeEnd(body)
	escaped := bytes.Equal(fix, []byte{'\\'}) // the next byte in the file is escaped
	// The size counts the body only: the opening quote is not in it and
	// the closing one is counted with the end skip finds.
	size := int64(len(body)) - 1
	return c.skip(p, pending, size, append(fix, '"'), func(b []byte) int {
		i := closingQuote(b, escaped)
		escaped = trailingBackslashes(b, escaped)
		if i >= 0 {
			return i + 1
		}
		return -1
	})
}

// cutNumber skips the rest of a number whose first bytes the decoder
// holds, and hands it a digit if the part it holds does not end in one.
func (c *capReader) cutNumber(p []byte, pending int, held []byte) (int, error) {
	var fix []byte
	if last := held[len(held)-1]; last < '0' || last > '9' {
		fix = []byte{'0'}
	}
	return c.skip(p, pending, int64(len(held)), fix, func(b []byte) int {
		for i, ch := range b {
			if !isNumberByte(ch) {
				return i
			}
		}
		return -1
	})
}

// skip reads and drops input until end returns where the value ends in a
// chunk (-1: not in it), records the cut, and hands the decoder fix and
// then what follows the value. size is what the decoder holds of it.
func (c *capReader) skip(p []byte, pending int, size int64, fix []byte, end func([]byte) int) (int, error) {
	if c.scratch == nil {
		c.scratch = make([]byte, 64<<10)
	}
	for {
		n, err := c.r.Read(c.scratch)
		if i := end(c.scratch[:n]); i >= 0 {
			c.cut = cutValue{end: c.dec.InputOffset() + int64(pending+len(fix)), size: size + int64(i)}
			c.buf = append(append(c.buf[:0], fix...), c.scratch[i:n]...)
			c.carry = c.buf
			return c.Read(p)
		}
		size += int64(n)
		if err != nil {
			return 0, err
		}
	}
}

// escapeEnd is what completes an escape sequence cut at the end of a
// string body: a backslash after a lone one, zeros after \u and fewer
// than four hex digits, or nothing.
func escapeEnd(body []byte) []byte {
	for i := 0; i < len(body); i++ {
		if body[i] != '\\' {
			continue
		}
		switch rest := len(body) - i - 1; {
		case rest == 0:
			return []byte{'\\'}
		case body[i+1] != 'u':
			i++
		case rest < 5:
			return bytes.Repeat([]byte{'0'}, 5-rest)
		default:
			i += 5
		}
	}
	return nil
}

// closingQuote is the index of the first unescaped quote in b, or -1;
// escaped says b[0] is escaped by a backslash before b.
func closingQuote(b []byte, escaped bool) int {
	for from := 0; ; {
		j := bytes.IndexByte(b[from:], '"')
		if j < 0 {
			return -1
		}
		j += from
		if !backslashedAt(b, j, escaped) {
			return j
		}
		from = j + 1
	}
}

// backslashedAt reports whether b[j] (j may be len(b)) follows an odd run
// of backslashes, counting the one before b when escaped and the run
// reaches b[0].
func backslashedAt(b []byte, j int, escaped bool) bool {
	k := 0
	for k < j && b[j-k-1] == '\\' {
		k++
	}
	if k == j && escaped {
		k++
	}
	return k%2 == 1
}

// trailingBackslashes reports whether the byte after b is escaped.
func trailingBackslashes(b []byte, escaped bool) bool { return backslashedAt(b, len(b), escaped) }
