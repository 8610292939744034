package recording

import (
	"context"
	"errors"
	"testing"
	"time"

	"hmperf/tui/source"
)

var p0 = time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)

// records are five polls 2 s apart, each with that many alerts; the third
// could not read the alerts.
func playRecords() []Record {
	var out []Record
	for i := range 5 {
		r := Record{At: p0.Add(time.Duration(2*i) * time.Second), Server: "db"}
		for range i {
			r.Alerts = append(r.Alerts, source.Alert{Name: "lock_wait_warning"})
		}
		if i == 2 {
			r.Alerts, r.Errors = nil, map[string]string{"alerts": "timeout"}
		}
		out = append(out, r)
	}
	return out
}

func TestPlayer(t *testing.T) {
	tests := []struct {
		name   string
		do     func(p *Player) error
		index  int
		clock  time.Duration // after p0
		paused bool
		speed  float64
	}{
		{"start", func(*Player) error { return nil }, 0, 0, false, 1},
		{"3 s of real time", func(p *Player) error { p.Advance(3 * time.Second); return nil }, 1, 3 * time.Second, false, 1},
		{"twice as fast", func(p *Player) error { p.Faster(); p.Advance(3 * time.Second); return nil }, 3, 6 * time.Second, false, 2},
		{"paused does not move", func(p *Player) error { p.TogglePause(); p.Advance(time.Minute); return nil }, 0, 0, true, 1},
		{"past the end stops and pauses", func(p *Player) error { p.Advance(time.Hour); return nil }, 4, 8 * time.Second, true, 1},
		{"step on and back", func(p *Player) error { p.Step(3); p.Step(-1); return nil }, 2, 4 * time.Second, true, 1},
		{"step before the start", func(p *Player) error { p.Step(-9); return nil }, 0, 0, true, 1},
		{"speed bounds", func(p *Player) error {
			for range 20 {
				p.Slower()
			}
			return nil
		}, 0, 0, false, MinSpeed},
		{"jump to a time of day", func(p *Player) error { return p.Jump("02:00:05") }, 2, 5 * time.Second, false, 1},
		{"jump RFC 3339", func(p *Player) error { return p.Jump("2026-03-01T02:00:08Z") }, 4, 8 * time.Second, false, 1},
	}
	for _, tc := range tests {
		p, err := NewPlayer(Header{}, playRecords())
		if err != nil {
			t.Fatal(err)
		}
		if err := tc.do(p); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		s := p.State()
		if s.Index != tc.index || !s.Clock.Equal(p0.Add(tc.clock)) || s.Paused != tc.paused || s.Speed != tc.speed {
			t.Errorf("%s: record %d at %v, paused %v, x%g; want %d at %v, %v, x%g", tc.name, s.Index, s.Clock.Sub(p0), s.Paused, s.Speed,
				tc.index, tc.clock, tc.paused, tc.speed)
		}
	}
}

func TestJumpRefusals(t *testing.T) {
	p, _ := NewPlayer(Header{}, playRecords())
	for in, want := range map[string]string{
		"noon-ish": `"noon-ish" is not a time: type 15:04, 15:04:05 or 2026-12-06T02:00:00Z`,
		"03:00":    "2026-03-01T03:00:00Z is outside the recording (2026-03-01T02:00:00Z to 2026-03-01T02:00:08Z)",
	} {
		if err := p.Jump(in); err == nil || err.Error() != want {
			t.Errorf("Jump(%q) = %v, want %q", in, err, want)
		}
	}
}

func TestAnswersFromTheRecordAtTheClock(t *testing.T) {
	p, _ := NewPlayer(Header{}, playRecords())
	ctx := context.Background()
	p.Step(3)
	if a, err := p.Alerts(ctx); err != nil || len(a) != 3 {
		t.Errorf("alerts at record 3: %d, %v", len(a), err)
	}
	p.Step(-1)
	if _, err := p.Alerts(ctx); err == nil || err.Error() != "at this time the recording holds no alerts: timeout" {
		t.Errorf("alerts where the recording could not read them: %v", err)
	}
	if _, err := p.Overview(ctx); err == nil {
		t.Error("an overview that was never recorded read without an error")
	}
	if !p.ReadOnly() || !errors.Is(p.MigrateUp(ctx), ErrReplay) || !errors.Is(p.StartIngest(ctx), ErrReplay) {
		t.Error("replay would write")
	}
	if got := p.State().Header(); got != "REPLAY 2026-03-01 02:00:04 UTC  PAUSED x1  record 3/5" {
		t.Errorf("header %q", got)
	}
}

func TestPlayerFollowsTheWallClock(t *testing.T) {
	p, _ := NewPlayer(Header{}, playRecords())
	wall := p0.Add(time.Hour)
	p.Run(func() time.Time { return wall })
	wall = wall.Add(3 * time.Second)
	if s := p.State(); s.Index != 1 || !s.Clock.Equal(p0.Add(3*time.Second)) {
		t.Errorf("after 3 s: record %d at %v", s.Index, s.Clock.Sub(p0))
	}
	p.TogglePause()
	wall = wall.Add(time.Minute)
	if s := p.State(); s.Index != 1 {
		t.Errorf("paused for a minute: record %d", s.Index)
	}
	p.TogglePause()
	p.Faster()
	wall = wall.Add(2 * time.Second)
	if s := p.State(); !s.Clock.Equal(p0.Add(7 * time.Second)) {
		t.Errorf("2 s at x2 after 3 s: at %v, want 7s", s.Clock.Sub(p0))
	}
}
