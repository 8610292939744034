package dashsource

import (
	"context"
	"sync"
	"time"

	"hmperf/tui/source"
)

// recentReads is how long the dashboard's data source reuses an answer
// that several panels read in the same poll tick (the header's and the
// Overview's alerts, the Overview's, Migrations' and Ingest's schema
// status): the shortest poll interval, so every tick still reads afresh.
const recentReads = 500 * time.Millisecond

// recent keeps the last answer of one read for ttl. An answer read for a
// poll that wanted a fresh read (the dashboard's) is also given to a poll
// that accepts an older one (source.WithReuse, the recording's) for as long
// as that poll accepts; an answer read for such a poll is not, so the
// recording never takes its own previous read for a new one. A reader
// that comes while the read runs waits for it and shares its answer.
type recent[T any] struct {
	ttl time.Duration
	mu  sync.Mutex
	at  time.Time
	val T
	err error
	// reused marks an answer read for a poll that accepted an older one.
	reused bool
}

// get returns the kept answer while it is young enough for ctx's poll,
// else reads.
func (r *recent[T]) get(ctx context.Context, read func() (T, error)) (T, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	accept := source.ReuseOf(ctx)
	keep := r.ttl
	if !r.reused {
		keep = max(keep, accept)
	}
	if !r.at.IsZero() && time.Since(r.at) < keep {
		return r.val, r.err
	}
	r.val, r.err = read()
	r.at, r.reused = time.Now(), accept > 0
	return r.val, r.err
}

// forget drops the kept answer: the next get reads.
func (r *recent[T]) forget() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.at = time.Time{}
}

// answers are the latest answer of each of one server's polls, kept for a
// poll that accepts an older one: the recording, which reads every panel
// each interval, then takes what the dashboard read for the panel on
// screen instead of asking the server twice. They keep nothing for a poll
// that wants a fresh read (ttl 0).
type answers struct {
	overview    recent[source.Overview]
	constraints recent[[]source.ConstraintRow]
	indexes     recent[[]source.IndexJob]
	benchmarks  recent[source.BenchHistory]
	ingest      recent[source.IngestStats]
	migrations  recent[source.MigrationStatus]
	activity    recent[source.Activity]
}

// forget drops every kept answer.
func (a *answers) forget() {
	a.overview.forget()
	a.constraints.forget()
	a.indexes.forget()
	a.benchmarks.forget()
	a.ingest.forget()
	a.migrations.forget()
	a.activity.forget()
}
