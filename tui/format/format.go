// Package format turns numbers and times into the short strings the panels
// show, the same way everywhere.
package format

import (
	"strconv"
	"strings"
	"time"
)

// Int renders n with thousands separators: 1234567 → "1,234,567".
func Int(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Rate renders a rows-per-second figure, rounded to whole rows.
func Rate(v float64) string { return Int(int64(v + 0.5)) }

// Float renders v with the given number of decimals.
func Float(v float64, decimals int) string {
	return strconv.FormatFloat(v, 'f', decimals, 64)
}

// Pct renders a percentage with one decimal: 12.345 → "12.3%".
func Pct(v float64) string { return Float(v, 1) + "%" }

// SignedPct renders a change in percent with its sign: "+12.3%", "-4.0%".
func SignedPct(v float64) string {
	if v >= 0 {
		return "+" + Pct(v)
	}
	return Pct(v)
}

// Stamp renders a time as "01-02 15:04", or "-" for the zero time. It does
// not convert the time zone: the source decides which zone to report in.
func Stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format("01-02 15:04")
}

// Clock renders a time of day as "15:04:05".
func Clock(t time.Time) string { return t.Format("15:04:05") }

// Truncate shortens s to at most n runes, marking the cut with "…".
func Truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	if n < 1 {
		return ""
	}
	return string(r[:n-1]) + "…"
}
