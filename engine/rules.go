package engine

import (
	"fmt"
	"math"
	"time"
)

// RuleKind says what a Rule checks.
type RuleKind uint8

// Rule kinds.
const (
	RuleRequired   RuleKind = iota // NOT NULL text or timestamp (empty is missing)
	RuleRange                      // number within [Lo, Hi], finite, whole for integer columns
	RuleEnum                       // text in Allowed (empty means NULL or the column default)
	RuleMaxLength                  // at most MaxLength characters (VARCHAR(n))
	RuleTime                       // timestamp within [Earliest, now+Latest]
	RuleCrossField                 // a relation between fields; Lo/Hi hold its parameter
)

var ruleKindNames = [...]string{"required", "range", "enum", "max-length", "time", "cross-field"}

// String returns the rule kind's name.
func (k RuleKind) String() string {
	if int(k) < len(ruleKindNames) {
		return ruleKindNames[k]
	}
	return fmt.Sprintf("rule(%d)", uint8(k))
}

type fieldSource uint8

const (
	srcNum fieldSource = iota
	srcText
	srcTime
	srcNone
)

// Rule is one entry of a kind's rule table, the single source of truth for
// Go validation. Exported fields describe it fully so that a parity test can
// walk every bound against the database.
type Rule struct {
	Field string
	Kind  RuleKind
	// Lo and Hi are the bounds in effect: the database CHECK intersected
	// with Config. For cross-field rules they hold the rule's parameter
	// (tolerance minutes, maximum hours) in Hi.
	Lo, Hi float64
	// HasCheck is true when the database has a CHECK for this rule; DBLo
	// and DBHi are then its bounds (ranges only).
	HasCheck   bool
	DBLo, DBHi float64
	// NoUpperBound is true for ">= lo" checks; Hi is then meaningless.
	NoUpperBound bool
	// Step is the smallest difference the column can hold: 1 for
	// integers, 0.01 for NUMERIC(p,2), 0.001 for NUMERIC(p,3), and 0.01 by
	// convention for an unconstrained NUMERIC. Just outside a bound is one
	// Step beyond it.
	Step  float64
	Scale int
	// Integer is true for INTEGER columns.
	Integer  bool
	Nullable bool
	Allowed  []string
	// MaxLength is the VARCHAR length in characters.
	MaxLength int
	// Earliest (if not zero) and Latest (an offset from now, if HasLatest)
	// bound a timestamp.
	Earliest  time.Time
	Latest    time.Duration
	HasLatest bool
	// Env names the VALIDATION_* variables that move the bounds.
	Env []string
	// Desc is the text Violation.Rule carries, e.g. "range [15, 300]".
	Desc string

	src   fieldSource
	slot  int
	set   map[string]uint16
	check func(r Record, rule *Rule) bool
	show  func(r Record) string // the values a failed cross-field check shows
}

// Rules is the compiled rule set for every kind. It is immutable and safe
// for concurrent use.
type Rules struct {
	cfg     Config
	byKind  [NumKinds][]Rule
	ranges  [NumKinds][]bound
	others  [NumKinds][]int
	version uint64
	now     func() time.Time
}

// bound is the compact form of a range rule used by the hot loop.
type bound struct {
	lo, hi  float64
	slot    uint8
	integer bool
	scale   int8
	rule    uint16
}

// DefaultRules returns the rules built from DefaultConfig with the real clock.
func DefaultRules() *Rules {
	rs, err := NewRules(DefaultConfig())
	if err != nil {
		panic(err) // DefaultConfig is consistent by construction
	}
	return rs
}

// NewRules compiles the rule tables for cfg. Time rules read time.Now; use
// WithClock to inject a clock.
func NewRules(cfg Config) (*Rules, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	rs := &Rules{cfg: cfg, now: time.Now}
	builders := [NumKinds]func(Config) []Rule{
		heartRateRules, bloodPressureRules, sleepRules, workoutRules, activityRules, nutritionRules, symptomRules,
	}
	for k, build := range builders {
		rs.byKind[k] = build(cfg)
		rs.compile(Kind(k))
	}
	rs.version = rs.hash()
	return rs, nil
}

// WithClock returns a copy of rs whose time rules use now.
func (rs *Rules) WithClock(now func() time.Time) *Rules {
	c := *rs
	c.now = now
	return &c
}

// Config returns the configuration the rules were built from.
func (rs *Rules) Config() Config { return rs.cfg }

// Version is a hash of every effective bound, allowed value and parameter.
// It changes whenever a bound changes, so cached verdicts keyed on it never
// outlive the rules that produced them.
func (rs *Rules) Version() uint64 { return rs.version }

// For returns a copy of the rule table of kind k, in evaluation order.
func (rs *Rules) For(k Kind) []Rule { return append([]Rule(nil), rs.byKind[k]...) }

// Walk calls fn for every rule of every kind.
func (rs *Rules) Walk(fn func(k Kind, r Rule)) {
	for k := range Kind(NumKinds) {
		for _, r := range rs.byKind[k] {
			fn(k, r)
		}
	}
}

func (rs *Rules) compile(k Kind) {
	for i := range rs.byKind[k] {
		r := &rs.byKind[k][i]
		if r.Kind == RuleRange {
			rs.ranges[k] = append(rs.ranges[k], bound{
				lo: r.Lo, hi: r.Hi, slot: uint8(r.slot), integer: r.Integer, scale: int8(r.Scale), rule: uint16(i),
			})
			continue
		}
		rs.others[k] = append(rs.others[k], i)
	}
}

func hashRule(h interface{ Write([]byte) (int, error) }, k Kind, r *Rule) {
	var b []byte
	b = append(b, byte(k), byte(r.Kind))
	b = bitsString(b, r.Field)
	for _, f := range []float64{r.Lo, r.Hi, r.Step, float64(r.MaxLength), float64(r.Latest)} {
		b = bitsOptFloat(b, Some(f))
	}
	b = bitsTime(b, r.Earliest)
	b = bitsStrings(b, r.Allowed)
	_, _ = h.Write(b)
}

// Probe is one value of a boundary walk and the verdict the rules (and the
// database, for rules with HasCheck) give it.
type Probe struct {
	Value float64
	Valid bool
}

// Probes returns lo, hi, lo−Step and hi+Step for a range rule (no upper
// probes when NoUpperBound), and nil for other rules.
func (r Rule) Probes() []Probe {
	if r.Kind != RuleRange {
		return nil
	}
	ps := []Probe{{r.Lo, true}, {roundStep(r.Lo-r.Step, r.Step), false}}
	if !r.NoUpperBound {
		ps = append(ps, Probe{r.Hi, true}, Probe{roundStep(r.Hi+r.Step, r.Step), false})
	}
	return ps
}

// roundStep removes the binary noise of lo−0.01 etc., so a probe is the
// decimal a writer would send.
func roundStep(v, step float64) float64 {
	inv := math.Round(1 / step) // dividing by 100 rounds correctly; multiplying by 0.01 does not
	r := math.Round(v*inv) / inv
	if r == 0 {
		return 0 // no negative zero
	}
	return r
}

// Apply sets the rule's numeric field of rec to v (range rules only), for
// boundary walks and invalid-value injection. Integer fields held as int32
// refuse values they cannot hold (NaN, ±Inf, fractions, beyond int32).
func (r Rule) Apply(rec Record, v float64) error {
	if r.Kind != RuleRange || rec == nil {
		return fmt.Errorf("rule %s %s does not take a number", r.Field, r.Kind)
	}
	if _, wide := rec.(*Activity); r.Integer && !wide && !(v == math.Trunc(v) && v >= math.MinInt32 && v <= math.MaxInt32) {
		return fmt.Errorf("integer field %s cannot hold %v", r.Field, v)
	}
	rec.setNum(r.slot, v)
	return nil
}

// ApplyText sets the rule's text field of rec (enum, max-length and
// required-text rules).
func (r Rule) ApplyText(rec Record, s string) error {
	if r.src != srcText || rec == nil {
		return fmt.Errorf("rule %s %s does not take a text", r.Field, r.Kind)
	}
	rec.setText(r.slot, s)
	return nil
}

// ApplyTime sets the rule's timestamp field of rec (time and required-time
// rules).
func (r Rule) ApplyTime(rec Record, t time.Time) error {
	if r.src != srcTime || rec == nil {
		return fmt.Errorf("rule %s %s does not take a timestamp", r.Field, r.Kind)
	}
	rec.setWhen(r.slot, t)
	return nil
}
