package catalog

import (
	"math"
	"regexp"
	"strconv"
	"strings"

	"hmperf/engine"
)

// shapeKind is what a CHECK definition says, as far as hmperf reads it.
type shapeKind int

const (
	shapeOther   shapeKind = iota // anything else: text kept for knownRules
	shapeRange                    // one column compared with numbers
	shapeEnum                     // one column equal to one of a list of strings
	shapeCompare                  // one column compared with another
)

// shape is a CHECK definition parsed: PostgreSQL prints every definition
// in one canonical form (pg_get_constraintdef: BETWEEN as >= AND <=, IN as
// = ANY (ARRAY[...]), numbers cast as (0)::numeric), which is what this
// reads; anything it does not recognise is shapeOther.
type shape struct {
	kind   shapeKind
	column string
	bound  engine.Bound // shapeRange
	values []string     // shapeEnum
	op     string       // shapeCompare
	other  string       // shapeCompare: the right-hand column
	text   string       // the definition without CHECK and NOT VALID
}

var (
	identRe   = regexp.MustCompile(`^\(*([a-z_][a-z0-9_]*)\)*(?:::[a-z ]+)?$`)
	compareRe = regexp.MustCompile(`^(.+?)\s*(>=|<=|<>|>|<|=)\s*(.+)$`)
	enumRe    = regexp.MustCompile(`^(.+?)\s*=\s*ANY\s*\((.*)\)$`)
	quotedRe  = regexp.MustCompile(`'((?:[^']|'')*)'`)
	castRe    = regexp.MustCompile(`::[a-z ]+(\[\])?`)
	wordRe    = regexp.MustCompile(`[a-z_][a-z0-9_]*`)
)

// parseCheck reads a definition as pg_get_constraintdef prints it.
func parseCheck(def string) shape {
	text := strings.TrimSuffix(strings.TrimSpace(def), " NOT VALID")
	text = unwrap(strings.TrimPrefix(text, "CHECK "))
	s := shape{text: text}
	body := text
	// "col IS NULL OR (...)": a CHECK passes on NULL anyway, so the
	// alternative adds nothing to what is checked.
	if alts := splitTop(body, " OR "); len(alts) == 2 && strings.HasSuffix(unwrap(alts[0]), " IS NULL") {
		body = unwrap(alts[1])
	}
	if m := enumRe.FindStringSubmatch(body); m != nil && !strings.Contains(m[1], " ") {
		if col, ok := ident(m[1]); ok {
			s.kind, s.column = shapeEnum, col
			for _, q := range quotedRe.FindAllStringSubmatch(m[2], -1) {
				s.values = append(s.values, strings.ReplaceAll(q[1], "''", "'"))
			}
			return s
		}
	}
	parseRange(&s, body)
	return s
}

// parseRange reads "cmp AND cmp ..." of one column: against numbers (a
// range) or, alone, against another column (a comparison).
func parseRange(s *shape, body string) bool {
	if len(splitTop(body, " OR ")) > 1 {
		return false // either of two conditions: no bound of one column
	}
	b := engine.Bound{Lo: math.Inf(-1), Hi: math.Inf(1)}
	col := ""
	for _, part := range splitTop(body, " AND ") {
		m := compareRe.FindStringSubmatch(unwrap(part))
		if m == nil {
			return false
		}
		left, ok := ident(m[1])
		if !ok || col != "" && left != col {
			return false
		}
		col = left
		n, isNum := number(m[3])
		if !isNum {
			right, ok := ident(m[3])
			if !ok || len(splitTop(body, " AND ")) != 1 {
				return false
			}
			s.kind, s.column, s.op, s.other = shapeCompare, left, m[2], right
			return true
		}
		if !applyBound(&b, m[2], n) {
			return false
		}
	}
	s.kind, s.column, s.bound = shapeRange, col, b
	return col != ""
}

// applyBound narrows b by "column op n".
func applyBound(b *engine.Bound, op string, n float64) bool {
	switch op {
	case ">=", ">":
		if n >= b.Lo {
			b.Lo, b.LoOpen = n, op == ">"
		}
	case "<=", "<":
		if n <= b.Hi {
			b.Hi, b.HiOpen = n, op == "<"
		}
	case "=":
		b.Lo, b.Hi = n, n
	default:
		return false
	}
	return true
}

// ident reads a column reference, with or without a cast: "(severity)::text".
func ident(s string) (string, bool) {
	m := identRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return "", false
	}
	return m[1], true
}

// number reads a numeric literal as PostgreSQL prints it: 0, 50.0,
// (0)::numeric, ('-500'::integer)::numeric.
func number(s string) (float64, bool) {
	s = castRe.ReplaceAllString(s, "")
	s = strings.Trim(strings.TrimSpace(s), "()'")
	n, err := strconv.ParseFloat(s, 64)
	return n, err == nil && !math.IsNaN(n) && !math.IsInf(n, 0)
}

// unwrap removes parentheses around the whole of s.
func unwrap(s string) string {
	s = strings.TrimSpace(s)
	for len(s) >= 2 && s[0] == '(' && closing(s, 0) == len(s)-1 {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	return s
}

// closing is the index of the parenthesis closing the one at open, or -1.
func closing(s string, open int) int {
	depth, quoted := 0, false
	for i := open; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\'':
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// splitTop splits s at sep where sep is outside parentheses and quotes.
func splitTop(s, sep string) []string {
	var parts []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\'':
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case depth == 0 && strings.HasPrefix(s[i:], sep):
			parts = append(parts, s[start:i])
			start = i + len(sep)
			i += len(sep) - 1
		}
	}
	return append(parts, s[start:])
}

// normalise is a definition in the form knownRules holds: live column
// names replaced by the engine's field names, lower case, without casts,
// parentheses or spaces.
func (m *Mapping) normalise(text string) string {
	text = castRe.ReplaceAllString(strings.ToLower(text), "")
	text = wordRe.ReplaceAllStringFunc(text, func(w string) string {
		if f, ok := m.Field(w); ok {
			return f
		}
		return w
	})
	return strings.NewReplacer("(", "", ")", "", " ", "").Replace(text)
}
