package engine

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Violation is one failing field of a record.
type Violation struct {
	Field string // column name
	Rule  string // the rule's description, e.g. "range [15, 300]"
	Value string // the offending value as text
}

// String formats v as one line, e.g. `heart_rate=301: range [15, 300]`.
func (v Violation) String() string { return v.Field + "=" + v.Value + ": " + v.Rule }

// Validate appends every violation of r to dst and returns it; it never
// stops at the first failure. A valid record appends nothing and does not
// allocate.
func (rs *Rules) Validate(r Record, dst []Violation) []Violation {
	k := r.Kind()
	var buf [8]float64
	vals, mask := numsOf(r, &buf)
	// Absent values are tested too and skipped only when they fail: a
	// presence test before the compare mispredicts on sparse rows (half
	// the nutrients are NULL), while the compare alone almost never fails.
	rg := rs.ranges[k]
	for i := range rg {
		b := &rg[i]
		v := vals[b.slot]
		if v >= b.lo && v <= b.hi && (!b.integer || v == math.Trunc(v)) {
			continue
		}
		if mask&(1<<b.slot) == 0 {
			continue
		}
		if rule := &rs.byKind[k][b.rule]; !roundsIntoRange(v, b) {
			dst = append(dst, rangeViolation(rule, v))
		}
	}
	for _, i := range rs.others[k] {
		dst = rs.checkOther(r, &rs.byKind[k][i], dst)
	}
	return dst
}

// numsOf calls nums on the concrete type so that buf does not escape.
func numsOf(r Record, buf *[8]float64) ([]float64, uint64) {
	switch t := r.(type) {
	case *Nutrition:
		return t.Values[:], t.Present
	case *Activity:
		return t.Values[:], uint64(t.Present)
	case *HeartRate:
		return t.nums(buf)
	case *BloodPressure:
		return t.nums(buf)
	case *Sleep:
		return t.nums(buf)
	case *Workout:
		return t.nums(buf)
	case *Symptom:
		return t.nums(buf)
	}
	return nil, 0
}

// roundsIntoRange is the slow path for a value outside [lo, hi]: a
// NUMERIC(p,s) column rounds the decimal the writer sends (the shortest
// representation of the float64) half away from zero to s digits before
// the CHECK runs, so 20000.004 is stored as 20000.00 and passes. Matching
// that keeps Go's verdict equal to the database's at the boundary.
func roundsIntoRange(v float64, b *bound) bool {
	if b.scale <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return false
	}
	r, ok := pgRound(v, int(b.scale))
	return ok && r >= b.lo && r <= b.hi
}

// pgRound rounds the shortest decimal form of v half away from zero to
// scale digits, as PostgreSQL's numeric input does.
func pgRound(v float64, scale int) (float64, bool) {
	s := strconv.FormatFloat(math.Abs(v), 'f', -1, 64)
	dot := strings.IndexByte(s, '.')
	if dot < 0 || len(s)-dot-1 <= scale {
		return v, true
	}
	t, err := strconv.ParseFloat(s[:dot+1+scale], 64)
	if err != nil {
		return 0, false
	}
	if s[dot+1+scale] >= '5' {
		p := math.Pow10(scale)
		t = math.Round(t*p+1) / p // re-round: t + 10^-scale alone can land a hair off the decimal
	}
	return math.Copysign(t, v), true
}

func rangeViolation(rule *Rule, v float64) Violation {
	desc := rule.Desc
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		desc = "finite number"
	case rule.Integer && v != math.Trunc(v) && v >= rule.Lo && v <= rule.Hi:
		desc = "whole number"
	}
	return Violation{Field: rule.Field, Rule: desc, Value: strconv.FormatFloat(v, 'g', -1, 64)}
}

func (rs *Rules) checkOther(r Record, rule *Rule, dst []Violation) []Violation {
	switch rule.Kind {
	case RuleRequired:
		if rule.src == srcText && r.text(rule.slot) == "" || rule.src == srcTime && r.when(rule.slot).IsZero() {
			dst = append(dst, Violation{Field: rule.Field, Rule: rule.Desc, Value: "NULL"})
		}
	case RuleEnum:
		if s := r.text(rule.slot); s != "" && !allowed(rule, s) {
			dst = append(dst, Violation{Field: rule.Field, Rule: rule.Desc, Value: strconv.Quote(truncate(s, 64))})
		}
	case RuleMaxLength:
		if s := r.text(rule.slot); len(s) > rule.MaxLength && utf8.RuneCountInString(s) > rule.MaxLength {
			dst = append(dst, Violation{Field: rule.Field, Rule: rule.Desc,
				Value: strconv.Itoa(utf8.RuneCountInString(s)) + " characters"})
		}
	case RuleTime:
		dst = rs.checkTime(r, rule, dst)
	case RuleCrossField:
		if !rule.check(r, rule) {
			dst = append(dst, Violation{Field: rule.Field, Rule: rule.Desc, Value: rule.show(r)})
		}
	}
	return dst
}

func allowed(rule *Rule, s string) bool {
	if rule.set != nil {
		_, ok := rule.set[s]
		return ok
	}
	for _, a := range rule.Allowed {
		if a == s {
			return true
		}
	}
	return false
}

func (rs *Rules) checkTime(r Record, rule *Rule, dst []Violation) []Violation {
	t := r.when(rule.slot)
	if t.IsZero() {
		return dst
	}
	early := !rule.Earliest.IsZero() && t.Before(rule.Earliest)
	late := rule.HasLatest && t.After(rs.now().Add(rule.Latest))
	if early || late {
		dst = append(dst, Violation{Field: rule.Field, Rule: rule.Desc, Value: t.UTC().Format("2006-01-02T15:04:05.999999Z07:00")})
	}
	return dst
}
