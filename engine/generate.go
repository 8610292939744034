package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Default rates of the sample generator.
const (
	DefaultDupRate     = 0.05
	DefaultInvalidRate = 0.02
	DefaultUsers       = 10
)

// GenConfig configures a Generator. Zero rates mean none.
type GenConfig struct {
	Seed  uint64
	Users int // number of distinct users; 0 means DefaultUsers
	// UserIDs, when set, are the users the samples belong to instead of
	// random ids (Users is then ignored): a live database's existing users,
	// so that a sample run never has to add any.
	UserIDs []UUID
	Types   []Kind // kinds to generate, chosen uniformly; nil means all
	// DupRate is the probability that a sample (after the first) is a copy
	// of an earlier one; InvalidRate the probability that a fresh sample
	// has one field set to break one rule. Copies keep the flags of their
	// original, so both rates hold exactly in expectation over all samples.
	DupRate, InvalidRate float64
	// End is the latest timestamp; zero means today's midnight UTC. Same
	// Seed, End and settings give the same samples.
	End time.Time
	// Span is how far back timestamps go; zero means 30 days.
	Span time.Duration
}

// DefaultGenConfig returns a configuration with the default rates.
func DefaultGenConfig(seed uint64) GenConfig {
	return GenConfig{Seed: seed, DupRate: DefaultDupRate, InvalidRate: DefaultInvalidRate}
}

// Sample is one generated record with what the generator knows about it.
type Sample struct {
	Record Record
	// Dup is true when the record is a copy of an earlier sample.
	Dup bool
	// Invalid names the field set to break a rule, with the rule, e.g.
	// "heart_rate: range [15, 300]"; empty for a valid record.
	Invalid string
}

// Generator produces realistic records as a stream; memory stays constant
// however many are drawn (it keeps the last ringSize samples to copy
// duplicates from). Not safe for concurrent use.
type Generator struct {
	cfg     GenConfig
	rng     *rand.Rand
	users   []UUID
	kinds   []Kind
	start   time.Time
	streams []stream // per user × kind
	ring    []Sample
	n       int
	rules   *Rules
	habits  [][3]int // per user: usual symptom types
}

const ringSize = 4096

// stream is the time cursor of one (user, kind): strictly increasing within
// a lap over [start, End]; each new lap adds a microsecond offset, so two
// fresh samples never share a key.
type stream struct {
	next time.Time
	lap  int
	meal int
}

// NewGenerator checks cfg and returns a generator.
func NewGenerator(cfg GenConfig) (*Generator, error) {
	if !(cfg.DupRate >= 0 && cfg.DupRate < 1) || !(cfg.InvalidRate >= 0 && cfg.InvalidRate <= 1) {
		return nil, fmt.Errorf("generator: dup rate %g must be in [0, 1) and invalid rate %g in [0, 1]", cfg.DupRate, cfg.InvalidRate)
	}
	if len(cfg.UserIDs) > 0 {
		cfg.Users = len(cfg.UserIDs)
	}
	if cfg.Users <= 0 {
		cfg.Users = DefaultUsers
	}
	if cfg.End.IsZero() {
		cfg.End = time.Now().UTC().Truncate(24 * time.Hour)
	}
	if cfg.Span <= 0 {
		cfg.Span = 30 * 24 * time.Hour
	}
	g := &Generator{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)), kinds: cfg.Types,
		start: cfg.End.Add(-cfg.Span), rules: DefaultRules().WithClock(func() time.Time { return cfg.End })}
	if len(g.kinds) == 0 {
		g.kinds = Kinds()
	}
	g.initUsers()
	return g, nil
}

func (g *Generator) initUsers() {
	g.users = make([]UUID, g.cfg.Users)
	g.habits = make([][3]int, g.cfg.Users)
	g.streams = make([]stream, g.cfg.Users*NumKinds)
	for i := range g.users {
		u := &g.users[i]
		if len(g.cfg.UserIDs) > 0 {
			*u = g.cfg.UserIDs[i]
		} else {
			g.randomUser(u)
		}
		for j := range g.habits[i] {
			g.habits[i][j] = g.rng.IntN(len(symptomTypes))
		}
	}
	for i := range g.streams {
		g.streams[i].next = g.start.Add(time.Duration(g.rng.Int64N(int64(time.Hour)))).Truncate(time.Second)
	}
}

// randomUser fills u with a random version 4 UUID.
func (g *Generator) randomUser(u *UUID) {
	for j := 0; j < 16; j += 8 {
		v := g.rng.Uint64()
		for b := range 8 {
			u[j+b] = byte(v >> (8 * b))
		}
	}
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
}

// Users returns the generated user ids.
func (g *Generator) Users() []UUID { return append([]UUID(nil), g.users...) }

// Next returns the next sample.
func (g *Generator) Next() Sample {
	var s Sample
	if g.n > 0 && g.rng.Float64() < g.cfg.DupRate {
		src := g.ring[g.rng.IntN(min(g.n, ringSize))]
		s = Sample{Record: src.Record.Clone(), Dup: true, Invalid: src.Invalid}
	} else {
		s = g.fresh()
	}
	if len(g.ring) < ringSize {
		g.ring = append(g.ring, s)
	} else {
		g.ring[g.n%ringSize] = s
	}
	g.n++
	return s
}

// Fill replaces every element of dst with the next samples.
func (g *Generator) Fill(dst []Sample) {
	for i := range dst {
		dst[i] = g.Next()
	}
}

func (g *Generator) fresh() Sample {
	ui := g.rng.IntN(len(g.users))
	k := g.kinds[g.rng.IntN(len(g.kinds))]
	st := &g.streams[ui*NumKinds+int(k)]
	r := g.build(k, ui, st)
	s := Sample{Record: r}
	if g.rng.Float64() < g.cfg.InvalidRate {
		s.Invalid = g.breakOne(r)
	}
	return s
}

// advance returns the stream's current time (plus its lap offset) and moves
// it on by step, wrapping to a new lap past End.
func (g *Generator) advance(st *stream, step time.Duration) time.Time {
	t := st.next.Add(time.Duration(st.lap) * time.Microsecond)
	st.next = st.next.Add(step)
	if st.next.After(g.cfg.End.Add(-24 * time.Hour)) {
		st.lap++
		st.next = g.start.Add(time.Duration(g.rng.Int64N(int64(time.Hour)))).Truncate(time.Second)
	}
	return t
}

func (g *Generator) build(k Kind, ui int, st *stream) Record {
	u := g.users[ui]
	switch k {
	case KindHeartRate:
		return g.heartRate(u, st)
	case KindBloodPressure:
		return g.bloodPressure(u, st)
	case KindSleep:
		return g.sleep(u, st)
	case KindWorkout:
		return g.workout(u, st)
	case KindActivity:
		return g.activity(u, st)
	case KindNutrition:
		return g.nutrition(u, st)
	}
	return g.symptom(u, ui, st)
}

// between returns a uniform value in [lo, hi] rounded to the given decimals.
func (g *Generator) between(lo, hi float64, decimals int) float64 {
	p := math.Pow10(decimals)
	return math.Round((lo+g.rng.Float64()*(hi-lo))*p) / p
}

func (g *Generator) intBetween(lo, hi int) int32 { return int32(lo + g.rng.IntN(hi-lo+1)) }

func (g *Generator) chance(p float64) bool { return g.rng.Float64() < p }

func (g *Generator) seconds(lo, hi time.Duration) time.Duration {
	return (lo + time.Duration(g.rng.Int64N(int64(hi-lo)))).Truncate(time.Second)
}

// breakOne sets one field of r to break one of its range or enum rules and
// returns "field: rule".
func (g *Generator) breakOne(r Record) string {
	rules := g.rules.byKind[r.Kind()]
	var cands []int
	for i, ru := range rules {
		if ru.Kind == RuleRange || ru.Kind == RuleEnum {
			cands = append(cands, i)
		}
	}
	ru := rules[cands[g.rng.IntN(len(cands))]]
	if ru.Kind == RuleEnum {
		_ = ru.ApplyText(r, "not_a_"+ru.Field)
		return ru.Field + ": " + ru.Desc
	}
	off := ru.Step * float64(1+g.rng.IntN(100))
	v := roundStep(ru.Lo-off, ru.Step)
	if !ru.NoUpperBound && g.chance(0.5) {
		v = roundStep(ru.Hi+off, ru.Step)
	}
	_ = ru.Apply(r, v)
	return ru.Field + ": " + ru.Desc
}
