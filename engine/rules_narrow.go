package engine

import (
	"fmt"
	"hash/fnv"
	"math"
	"slices"
)

// Bound is a live table's CHECK on one number: Lo and Hi (±Inf when
// absent), each exclusive when its Open flag is set ("> 0").
type Bound struct {
	Lo, Hi         float64
	LoOpen, HiOpen bool
}

// Narrow returns rules that also enforce bound on kind k's range rule for
// field, as a live table's CHECK does where the engine's own table had a
// wider one or none: the rule's accepted range becomes its intersection
// with bound, rounded inward to the column's step, and DBLo and DBHi the
// CHECK's. It reports false, and returns rs itself, when the rule already
// accepts nothing outside bound; an error when k has no range rule for
// field. rs is not changed.
func (rs *Rules) Narrow(k Kind, field string, b Bound) (*Rules, bool, error) {
	i := slices.IndexFunc(rs.byKind[k], func(r Rule) bool { return r.Field == field && r.Kind == RuleRange })
	if i < 0 {
		return nil, false, fmt.Errorf("%s has no range rule for %s", k.Table(), field)
	}
	r := rs.byKind[k][i]
	lo, hi := b.Lo, b.Hi
	if b.LoOpen {
		lo += r.Step
	}
	if b.HiOpen {
		hi -= r.Step
	}
	lo, hi = roundStep(math.Ceil(lo/r.Step-1e-9)*r.Step, r.Step), roundStep(math.Floor(hi/r.Step+1e-9)*r.Step, r.Step)
	if math.IsInf(b.Lo, -1) {
		lo = b.Lo
	}
	if math.IsInf(b.Hi, 1) {
		hi = b.Hi
	}
	upperKept := math.IsInf(hi, 1) || !r.NoUpperBound && hi >= r.Hi
	if lo <= r.Lo && upperKept {
		return rs, false, nil
	}
	r.Lo, r.DBLo, r.HasCheck = math.Max(r.Lo, lo), math.Max(r.DBLo, lo), true
	if !math.IsInf(hi, 1) {
		if r.NoUpperBound {
			r.Hi, r.DBHi, r.NoUpperBound = hi, hi, false
		} else {
			r.Hi, r.DBHi = math.Min(r.Hi, hi), math.Min(r.DBHi, hi)
		}
	}
	r.Desc = rangeDesc(r)
	c := rs.cloneKind(k)
	c.byKind[k][i] = r
	c.recompile(k)
	return c, true, nil
}

// NarrowEnum returns rules whose enum rule for field of kind k allows only
// the values also in allowed, as a live CHECK listing fewer values does;
// false and rs itself when the rule allows none outside it already.
func (rs *Rules) NarrowEnum(k Kind, field string, allowed []string) (*Rules, bool, error) {
	i := slices.IndexFunc(rs.byKind[k], func(r Rule) bool { return r.Field == field && r.Kind == RuleEnum })
	if i < 0 {
		return nil, false, fmt.Errorf("%s has no enumeration rule for %s", k.Table(), field)
	}
	old := rs.byKind[k][i]
	kept := slices.DeleteFunc(slices.Clone(old.Allowed), func(a string) bool { return !slices.Contains(allowed, a) })
	if len(kept) == len(old.Allowed) {
		return rs, false, nil
	}
	r := enumRule(old.Field, old.slot, kept)
	r.Nullable, r.Env = old.Nullable, old.Env
	c := rs.cloneKind(k)
	c.byKind[k][i] = r
	c.recompile(k)
	return c, true, nil
}

// rangeDesc is the text a range rule's violations carry.
func rangeDesc(r Rule) string {
	if r.NoUpperBound {
		return ">= " + fmtNum(r.Lo)
	}
	return "range [" + fmtNum(r.Lo) + ", " + fmtNum(r.Hi) + "]"
}

// cloneKind copies rs with its own copy of kind k's tables.
func (rs *Rules) cloneKind(k Kind) *Rules {
	c := *rs
	c.byKind[k] = slices.Clone(rs.byKind[k])
	return &c
}

// recompile rebuilds kind k's compiled bounds and the version, after one
// of its rules changed.
func (rs *Rules) recompile(k Kind) {
	rs.ranges[k], rs.others[k] = nil, nil
	rs.compile(k)
	rs.version = rs.hash()
}

// hash is the version of every effective bound, allowed value and
// parameter of every kind.
func (rs *Rules) hash() uint64 {
	h := fnv.New64a()
	for k := range Kind(NumKinds) {
		for i := range rs.byKind[k] {
			hashRule(h, k, &rs.byKind[k][i])
		}
	}
	return h.Sum64()
}
