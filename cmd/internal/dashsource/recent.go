package dashsource

import (
	"sync"
	"time"
)

// recentReads is how long the dashboard's data source reuses an answer
// that several panels read in the same poll tick (the header's and the
// Overview's alerts, the Overview's, Migrations' and Ingest's schema
// status): the shortest poll interval, so every tick still reads afresh.
const recentReads = 500 * time.Millisecond

// recent keeps the last answer of one read for ttl. A reader that comes
// while the read runs waits for it and shares its answer.
type recent[T any] struct {
	ttl time.Duration
	mu  sync.Mutex
	at  time.Time
	val T
	err error
}

// get returns the kept answer while it is younger than ttl, else reads.
func (r *recent[T]) get(read func() (T, error)) (T, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.at.IsZero() && time.Since(r.at) < r.ttl {
		return r.val, r.err
	}
	r.val, r.err = read()
	r.at = time.Now()
	return r.val, r.err
}

// forget drops the kept answer: the next get reads.
func (r *recent[T]) forget() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.at = time.Time{}
}
