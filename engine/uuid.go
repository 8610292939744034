package engine

import (
	"encoding/hex"
	"fmt"
)

// UUID is a 16-byte RFC 4122 identifier, kept as an array so that it is
// comparable, copyable and allocation free.
type UUID [16]byte

// ParseUUID parses the canonical 8-4-4-4-12 hex form (either case). Other
// forms (braces, urn:uuid:, no hyphens) are rejected: the ingest payload only
// uses the canonical one and a strict parser makes typos visible.
func ParseUUID(s string) (UUID, error) {
	var u UUID
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, fmt.Errorf("invalid uuid %q: want 8-4-4-4-12 hex digits", truncate(s, 64))
	}
	j := 0
	for _, g := range [...][2]int{{0, 8}, {9, 13}, {14, 18}, {19, 23}, {24, 36}} {
		for i := g[0]; i < g[1]; i += 2 {
			hi, ok1 := unhex(s[i])
			lo, ok2 := unhex(s[i+1])
			if !ok1 || !ok2 {
				return UUID{}, fmt.Errorf("invalid uuid %q: non-hex digit", truncate(s, 64))
			}
			u[j] = hi<<4 | lo
			j++
		}
	}
	return u, nil
}

// String formats u in the canonical lower-case 8-4-4-4-12 form.
func (u UUID) String() string {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:36], u[10:16])
	return string(b[:])
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// IsZero reports whether u is the nil UUID.
func (u UUID) IsZero() bool { return u == UUID{} }

// truncate shortens s for error messages so that a huge bad value cannot
// flood a log line.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
