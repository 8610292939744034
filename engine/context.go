package engine

import (
	"fmt"
	"strings"
)

// Context says where a record comes from. A Policy may let some contexts
// skip Go validation; the database constraints still apply to them.
type Context uint8

// The validation contexts.
const (
	ContextAPI Context = iota
	ContextUserInput
	ContextBulkImport
	ContextMigration
	ContextTesting
	NumContexts = 5
)

var contextNames = [NumContexts]string{"api", "user-input", "bulk-import", "migration", "testing"}

// String returns the context's name as ParseContext accepts it.
func (c Context) String() string {
	if c < NumContexts {
		return contextNames[c]
	}
	return fmt.Sprintf("context(%d)", uint8(c))
}

// ParseContext parses one of api, user-input, bulk-import, migration, testing.
func ParseContext(s string) (Context, error) {
	for i, n := range contextNames {
		if s == n {
			return Context(i), nil
		}
	}
	return 0, fmt.Errorf("unknown validation context %q (want one of %s)", s, strings.Join(contextNames[:], ", "))
}

// Policy lists the contexts whose records skip Go validation. The zero
// Policy validates everything.
type Policy struct {
	skip [NumContexts]bool
}

// DefaultPolicy validates every context.
func DefaultPolicy() Policy { return Policy{} }

// LegacyPolicy is the original service's default (migration and bulk-import
// skip validation), kept to measure what skipping buys.
func LegacyPolicy() Policy { return PolicySkipping(ContextMigration, ContextBulkImport) }

// PolicySkipping returns a policy that skips the given contexts.
func PolicySkipping(ctxs ...Context) Policy {
	var p Policy
	for _, c := range ctxs {
		if c < NumContexts {
			p.skip[c] = true
		}
	}
	return p
}

// ParsePolicy parses a comma-separated list of contexts to skip ("" skips
// none).
func ParsePolicy(s string) (Policy, error) {
	var ctxs []Context
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		c, err := ParseContext(part)
		if err != nil {
			return Policy{}, err
		}
		ctxs = append(ctxs, c)
	}
	return PolicySkipping(ctxs...), nil
}

// Skips reports whether records in context c skip Go validation.
func (p Policy) Skips(c Context) bool { return c < NumContexts && p.skip[c] }

// Outcome is the verdict on one record.
type Outcome uint8

// Outcomes. Unvalidated records were skipped by the policy: they are never
// counted as valid.
const (
	Valid Outcome = iota
	Invalid
	Unvalidated
)

var outcomeNames = [...]string{"valid", "invalid", "unvalidated"}

// String returns the outcome's name.
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return fmt.Sprintf("outcome(%d)", uint8(o))
}

// ValidationCounts counts outcomes.
type ValidationCounts struct {
	Valid, Invalid, Unvalidated uint64
}

// Validator applies Rules under a Policy, through a Cache for the kinds
// where caching is on. It is not safe for concurrent use (its counters are
// plain integers so the hot path stays cheap): use one per goroutine; the
// Rules and the Cache may be shared.
type Validator struct {
	rules    *Rules
	policy   Policy
	cache    *Cache
	useCache [NumKinds]bool
	counts   [NumKinds]ValidationCounts
}

// NewValidator returns a validator. cache may be nil; when it is not, it is
// used for the kinds where CacheEnabledByDefault is true (change with
// UseCache).
func NewValidator(rules *Rules, policy Policy, cache *Cache) *Validator {
	v := &Validator{rules: rules, policy: policy, cache: cache}
	for _, k := range Kinds() {
		v.useCache[k] = cache != nil && CacheEnabledByDefault(k)
	}
	return v
}

// UseCache turns the cache on or off for kind k (no effect without a cache).
func (v *Validator) UseCache(k Kind, on bool) { v.useCache[k] = on && v.cache != nil }

// SetRules replaces the validator's rules, as an ingest does once it has
// read the live table's CHECKs (Rules.Narrow). The cache keys verdicts on
// the rules' version, so none given under the old rules serves the new.
func (v *Validator) SetRules(rs *Rules) { v.rules = rs }

// Rules returns the validator's rules.
func (v *Validator) Rules() *Rules { return v.rules }

// Check validates r in context ctx, appending its violations to dst.
func (v *Validator) Check(r Record, ctx Context, dst []Violation) (Outcome, []Violation) {
	k := r.Kind()
	if v.policy.Skips(ctx) {
		v.counts[k].Unvalidated++
		return Unvalidated, dst
	}
	n := len(dst)
	if v.useCache[k] {
		dst = v.cache.Validate(v.rules, r, dst)
	} else {
		dst = v.rules.Validate(r, dst)
	}
	if len(dst) > n {
		v.counts[k].Invalid++
		return Invalid, dst
	}
	v.counts[k].Valid++
	return Valid, dst
}

// Counts returns the outcome counts for kind k.
func (v *Validator) Counts(k Kind) ValidationCounts { return v.counts[k] }

// Total returns the outcome counts over all kinds.
func (v *Validator) Total() ValidationCounts {
	var t ValidationCounts
	for _, c := range v.counts {
		t.Valid += c.Valid
		t.Invalid += c.Invalid
		t.Unvalidated += c.Unvalidated
	}
	return t
}
