package recording

import (
	"context"
	"time"

	"hmperf/tui/source"
)

// Poll reads the panels' data from p once, for the server the panels show
// (the first), with the set of servers and, when p reads it, the
// activity. The panels that change slowly (benchmarks, migrations, the
// index queue) are read only when full is set; a reader takes them from
// the latest record that has them. Each read has its own timeout; a failed
// read leaves its field empty and its error in Errors.
func Poll(ctx context.Context, p source.Poller, full bool, timeout time.Duration, now func() time.Time) Record {
	r := Record{At: now().UTC(), Errors: map[string]string{}}
	if names := p.ServerNames(); len(names) > 0 {
		r.Server = names[0]
	}
	read := func(name string, f func(context.Context) error) {
		c, cancel := context.WithTimeout(source.WithServer(ctx, 0), timeout)
		defer cancel()
		if err := f(c); err != nil {
			r.Errors[name] = err.Error()
		}
	}
	read("overview", func(c context.Context) error { v, err := p.Overview(c); r.Overview = keep(v, err); return err })
	read("constraints", func(c context.Context) (err error) { r.Constraints, err = p.Constraints(c); return err })
	read("alerts", func(c context.Context) (err error) { r.Alerts, err = p.Alerts(c); return err })
	read("ingest", func(c context.Context) error { v, err := p.Ingest(c); r.Ingest = keep(v, err); return err })
	if full {
		read("indexes", func(c context.Context) error { v, err := p.Indexes(c); r.Indexes = keep(nonNil(v), err); return err })
		read("benchmarks", func(c context.Context) error { v, err := p.Benchmarks(c); r.Benchmarks = keep(v, err); return err })
		read("migrations", func(c context.Context) error { v, err := p.Migrations(c); r.Migrations = keep(v, err); return err })
	}
	read("servers", func(c context.Context) (err error) { r.Servers, err = p.Servers(c); return err })
	if ap, ok := p.(source.ActivityPoller); ok {
		read("activity", func(c context.Context) error { v, err := ap.Activity(c); r.Activity = keep(v, err); return err })
	}
	if len(r.Errors) == 0 {
		r.Errors = nil
	}
	return r
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func keep[T any](v T, err error) *T {
	if err != nil {
		return nil
	}
	return &v
}

// SlowEvery is how many polls apart the slowly changing panels are read.
const SlowEvery = 15

// Recorder appends a Poll of its source to its writer every interval,
// a full one every SlowEvery. Its polls accept an answer one interval
// old (source.WithReuse), so a source that keeps the dashboard's answers
// gives them instead of reading again.
type Recorder struct {
	Source   source.Poller
	Writer   *Writer
	Interval time.Duration
	Timeout  time.Duration
	Now      func() time.Time
}

// Run records until ctx ends, then returns the first write error, if
// any stopped it (a full disk stops the recording, not the dashboard).
func (rc Recorder) Run(ctx context.Context) error {
	now := rc.Now
	if now == nil {
		now = time.Now
	}
	timeout := rc.Timeout
	if timeout <= 0 {
		timeout = rc.Interval
	}
	tick := time.NewTicker(rc.Interval)
	defer tick.Stop()
	// What the dashboard read for the panel on screen within the last
	// interval is what it saw at this tick: recording it saves asking the
	// server the same again.
	polls := source.WithReuse(ctx, rc.Interval)
	for n := 0; ; n++ {
		if err := rc.Writer.Append(Poll(polls, rc.Source, n%SlowEvery == 0, timeout, now)); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}
