// Package streamtest makes large inputs for tests that measure memory: they
// are generated as they are read, so the test itself holds none of them.
package streamtest

import (
	"io"
	"strings"
)

// Repeat is pattern repeated until n bytes have been read (the last copy
// may be cut short).
func Repeat(pattern string, n int64) io.Reader {
	// A pattern of a few bytes is copied a few thousand times, so that a
	// read is a few copies, not one per byte.
	return io.LimitReader(&cycle{pattern: strings.Repeat(pattern, 4096/len(pattern)+1)}, n)
}

// Records is n copies of record, each followed by sep.
func Records(record, sep string, n int64) io.Reader {
	return Repeat(record+sep, n*int64(len(record)+len(sep)))
}

// Wrap is head, then body, then tail.
func Wrap(head string, body io.Reader, tail string) io.Reader {
	return io.MultiReader(strings.NewReader(head), body, strings.NewReader(tail))
}

// cycle repeats its pattern forever.
type cycle struct {
	pattern string
	off     int
}

func (c *cycle) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		k := copy(p[n:], c.pattern[c.off:])
		n += k
		c.off = (c.off + k) % len(c.pattern)
	}
	return n, nil
}
