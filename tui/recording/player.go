package recording

// A Player plays a recording back as the dashboard's source: every poll
// answers with the record at the replay clock, which runs at a chosen
// speed, pauses, steps record by record and jumps to a time. Every write is
// refused: replay shows what was, it changes nothing.

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"hmperf/tui/source"
)

// ErrReplay is every write's answer in replay.
var ErrReplay = errors.New("replay: writes are disabled (this is a recording)")

// errNotRecorded answers a poll of data the record at the clock lacks.
type errNotRecorded struct{ what, why string }

func (e errNotRecorded) Error() string {
	if e.why != "" {
		return "at this time the recording holds no " + e.what + ": " + e.why
	}
	return "at this time the recording holds no " + e.what
}

// Speeds bound the replay speed, a factor of real time.
const (
	MinSpeed = 0.25
	MaxSpeed = 64
)

// Player is a recording being played. Its methods are safe from several
// goroutines: the dashboard polls from its own.
type Player struct {
	mu      sync.Mutex
	header  Header
	records []Record
	i       int       // the record shown
	clock   time.Time // the recorded time shown
	paused  bool
	speed   float64
	// wall reads the real clock; lastWall is when the replay clock was
	// last moved on by it.
	wall     func() time.Time
	lastWall time.Time
}

// NewPlayer plays records (in time order) from the first, at real speed.
func NewPlayer(h Header, records []Record) (*Player, error) {
	if len(records) == 0 {
		return nil, errors.New("the recording holds no complete record")
	}
	rs := append([]Record(nil), records...)
	sort.SliceStable(rs, func(a, b int) bool { return rs[a].At.Before(rs[b].At) })
	return &Player{header: h, records: rs, clock: rs[0].At, speed: 1}, nil
}

// Run makes the replay clock follow wall, the real clock, from now on:
// every read moves it on by the real time since the last one, at the
// speed. Without Run it moves only by Advance, Step and Jump.
func (p *Player) Run(wall func() time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.wall, p.lastWall = wall, wall()
}

// follow moves the clock on by the real time since the last read.
func (p *Player) follow() {
	if p.wall == nil {
		return
	}
	now := p.wall()
	d := now.Sub(p.lastWall)
	p.lastWall = now
	if !p.paused && d > 0 {
		p.seek(p.clock.Add(time.Duration(float64(d) * p.speed)))
	}
}

// Advance moves the clock on by wall time d at the current speed, unless
// paused or at the end.
func (p *Player) Advance(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.paused {
		return
	}
	p.seek(p.clock.Add(time.Duration(float64(d) * p.speed)))
}

// seek sets the clock to t, within the recording, and the record to the
// last one at or before it.
func (p *Player) seek(t time.Time) {
	first, last := p.records[0].At, p.records[len(p.records)-1].At
	if t.Before(first) {
		t = first
	}
	if t.After(last) {
		t = last
		p.paused = true
	}
	p.clock = t
	p.i = sort.Search(len(p.records), func(i int) bool { return p.records[i].At.After(t) }) - 1
}

// TogglePause pauses or resumes.
func (p *Player) TogglePause() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.follow()
	p.paused = !p.paused
}

// Step moves n records on (back when negative) and pauses there.
func (p *Player) Step(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.follow()
	i := min(max(p.i+n, 0), len(p.records)-1)
	p.paused = true
	p.seek(p.records[i].At)
}

// Faster doubles the speed, Slower halves it, within bounds.
func (p *Player) Faster() { p.setSpeed(2) }

// Slower halves the speed.
func (p *Player) Slower() { p.setSpeed(0.5) }

func (p *Player) setSpeed(f float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.follow()
	p.speed = min(max(p.speed*f, MinSpeed), MaxSpeed)
}

// Jump moves the clock to s: RFC 3339, or a time of day (15:04 or
// 15:04:05, UTC) on the day of the record shown.
func (p *Player) Jump(s string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.follow()
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		day := p.clock.UTC().Truncate(24 * time.Hour)
		for _, layout := range []string{"15:04:05", "15:04"} {
			if tod, e := time.Parse(layout, s); e == nil {
				t, err = day.Add(tod.Sub(tod.Truncate(24*time.Hour))), nil
				break
			}
		}
	}
	if err != nil {
		return fmt.Errorf("%q is not a time: type 15:04, 15:04:05 or 2026-12-06T02:00:00Z", s)
	}
	first, last := p.records[0].At, p.records[len(p.records)-1].At
	if t.Before(first) || t.After(last) {
		return fmt.Errorf("%s is outside the recording (%s to %s)", t.UTC().Format(time.RFC3339),
			first.UTC().Format(time.RFC3339), last.UTC().Format(time.RFC3339))
	}
	p.seek(t)
	return nil
}

// State is what the header shows of the replay.
type State struct {
	Clock         time.Time
	Index, Count  int
	Paused        bool
	Speed         float64
	First, Last   time.Time
	RecordedEvery time.Duration
}

// State returns the replay's position.
func (p *Player) State() State {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.follow()
	return State{Clock: p.clock, Index: p.i, Count: len(p.records), Paused: p.paused, Speed: p.speed,
		First: p.records[0].At, Last: p.records[len(p.records)-1].At, RecordedEvery: p.header.Interval}
}

// Header is the replay's line for the dashboard's header.
func (s State) Header() string {
	mode := "▶"
	if s.Paused {
		mode = "PAUSED"
	}
	return fmt.Sprintf("REPLAY %s UTC  %s x%g  record %d/%d", s.Clock.UTC().Format("2006-01-02 15:04:05"), mode, s.Speed, s.Index+1, s.Count)
}

// Now is the recorded time shown: the dashboard's clock in replay.
func (p *Player) Now() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.follow()
	return p.clock
}

func (p *Player) current() Record {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.follow()
	return p.records[p.i]
}

var _ source.Source = (*Player)(nil)
var _ source.ActivityPoller = (*Player)(nil)

// get returns v, or the error of what the record lacks.
func get[T any](v *T, r Record, what, key string) (T, error) {
	if v == nil {
		var zero T
		return zero, errNotRecorded{what, r.Errors[key]}
	}
	return *v, nil
}

func slice[T any](v []T, r Record, what, key string) ([]T, error) {
	if v == nil && r.Errors[key] != "" {
		return nil, errNotRecorded{what, r.Errors[key]}
	}
	return v, nil
}

// Overview answers from the record at the clock.
func (p *Player) Overview(context.Context) (source.Overview, error) {
	r := p.current()
	return get(r.Overview, r, "overview", "overview")
}

// Constraints answers from the record at the clock.
func (p *Player) Constraints(context.Context) ([]source.ConstraintRow, error) {
	r := p.current()
	return slice(r.Constraints, r, "constraints", "constraints")
}

// Alerts answers from the record at the clock.
func (p *Player) Alerts(context.Context) ([]source.Alert, error) {
	r := p.current()
	return slice(r.Alerts, r, "alerts", "alerts")
}

// Indexes answers from the latest record at the clock that read them.
func (p *Player) Indexes(context.Context) ([]source.IndexJob, error) {
	r := p.latest(func(r Record) bool { return r.Indexes != nil })
	return get(r.Indexes, r, "index queue", "indexes")
}

// Benchmarks answers from the latest record at the clock that read them.
func (p *Player) Benchmarks(context.Context) (source.BenchHistory, error) {
	r := p.latest(func(r Record) bool { return r.Benchmarks != nil })
	return get(r.Benchmarks, r, "benchmarks", "benchmarks")
}

// Ingest answers from the record at the clock.
func (p *Player) Ingest(context.Context) (source.IngestStats, error) {
	r := p.current()
	return get(r.Ingest, r, "ingest", "ingest")
}

// Migrations answers from the latest record at the clock that read them.
func (p *Player) Migrations(context.Context) (source.MigrationStatus, error) {
	r := p.latest(func(r Record) bool { return r.Migrations != nil })
	return get(r.Migrations, r, "migrations", "migrations")
}

// latest is the last record at or before the clock that has what has
// asks for (the recorder reads the slow panels only every SlowEvery
// polls), else the record at the clock.
func (p *Player) latest(has func(Record) bool) Record {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.follow()
	for i := p.i; i >= 0; i-- {
		if has(p.records[i]) {
			return p.records[i]
		}
	}
	return p.records[p.i]
}

// Servers answers from the record at the clock.
func (p *Player) Servers(context.Context) ([]source.Server, error) {
	r := p.current()
	return slice(r.Servers, r, "servers", "servers")
}

// Activity answers from the record at the clock; nothing can be
// signalled in a recording.
func (p *Player) Activity(context.Context) (source.Activity, error) {
	r := p.current()
	a, err := get(r.Activity, r, "activity", "activity")
	a.CanSignal = false
	return a, err
}

// ServerNames is the recorded server's name: replay shows the server the
// dashboard showed.
func (p *Player) ServerNames() []string {
	return []string{p.records[0].Server}
}

// ReadOnly is true: replay writes nothing.
func (p *Player) ReadOnly() bool { return true }

// RunBenchmark is refused in replay.
func (p *Player) RunBenchmark(context.Context, string, func(source.BenchProgress)) error {
	return ErrReplay
}

// StartIngest is refused in replay.
func (p *Player) StartIngest(context.Context) error { return ErrReplay }

// StopIngest has nothing to stop.
func (p *Player) StopIngest() error { return nil }

// ProcessIndexes is refused in replay.
func (p *Player) ProcessIndexes(context.Context) error { return ErrReplay }

// MigrateUp is refused in replay.
func (p *Player) MigrateUp(context.Context) error { return ErrReplay }

// MigrateDown is refused in replay.
func (p *Player) MigrateDown(context.Context, int) error { return ErrReplay }

// Force is refused in replay.
func (p *Player) Force(context.Context, int) error { return ErrReplay }

// WritesTo says there is nowhere to write.
func (p *Player) WritesTo() (string, error) { return "", ErrReplay }
