// Package lockwait runs the steps of hmperf that lock a table it does not
// own (a migration, a partition, an index build, a sandbox or scratch copy)
// so that the service never queues behind hmperf for long.
//
// Every hmperf session runs under lock_timeout (1 s by default): a waiting
// lock request makes every later conflicting request of the service queue
// behind it, so hmperf gives up its place in the queue quickly. Policy.Run
// then rolls the step back (the step does that itself: one transaction per
// step), waits with backoff and tries again, until the step succeeds or the
// budget (--lock-wait) is spent. While the step waits, a second connection
// polls pg_blocking_pids of the step's backend, so every retry line and the
// final error name who holds the lock.
package lockwait

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/queries"
)

// Defaults of a Policy's zero fields.
const (
	DefaultBudget = 2 * time.Minute
	// defaultFirst is the first pause: short, because most blockers are
	// one of the service's own short transactions.
	defaultFirst = 250 * time.Millisecond
	// defaultMax caps the pause, so a blocker that ends is noticed within
	// a few seconds.
	defaultMax = 5 * time.Second
	// defaultPoll is how often the watcher reads the blockers while the
	// step waits; well under lock_timeout, so one read lands in every wait.
	defaultPoll = 150 * time.Millisecond
)

// Policy is how long and how often a step is retried after its lock wait
// timed out. The zero value retries for DefaultBudget and logs nothing.
type Policy struct {
	// Budget is the total time from the first attempt after which no new
	// attempt starts (--lock-wait). Negative means a single attempt.
	Budget time.Duration
	// First and Max bound the pause between attempts: it doubles from
	// First up to Max.
	First, Max time.Duration
	// Poll is how often the blockers are read while a step runs.
	Poll time.Duration
	// Log receives one line per retry; nil discards them.
	Log io.Writer
}

// Delay is the pause after the attempt-th failed attempt (1-based): First
// doubled attempt-1 times, at most Max.
func (p Policy) Delay(attempt int) time.Duration {
	first, max := p.first(), p.max()
	d := first
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

// Schedule lists the pauses a step that always times out would take within
// the budget, given that each attempt waits lockTimeout before failing.
func (p Policy) Schedule(lockTimeout time.Duration) []time.Duration {
	var out []time.Duration
	elapsed := lockTimeout
	for attempt := 1; ; attempt++ {
		d := p.Delay(attempt)
		if !p.fits(elapsed, d) {
			return out
		}
		out = append(out, d)
		elapsed += d + lockTimeout
	}
}

// fits reports whether another attempt may start after pausing d, elapsed
// into the budget.
func (p Policy) fits(elapsed, d time.Duration) bool {
	return p.budget() >= 0 && elapsed+d < p.budget()
}

func (p Policy) budget() time.Duration { return orDefault(p.Budget, DefaultBudget) }
func (p Policy) first() time.Duration  { return orDefault(p.First, defaultFirst) }
func (p Policy) max() time.Duration    { return orDefault(p.Max, defaultMax) }
func (p Policy) poll() time.Duration   { return orDefault(p.Poll, defaultPoll) }

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// Watch reads the sessions that block the step's backend right now.
type Watch func(ctx context.Context) ([]Blocker, error)

// Run runs step until it succeeds, fails for a reason other than a lock
// timeout, or the budget is spent. what names the step in the log and the
// error ("apply migration 0020"). watch, if not nil, is polled from a
// goroutine of its own while step runs (it must use a connection step does
// not); the goroutine has ended when Run returns. A cancelled ctx stops the
// pause between attempts.
func (p Policy) Run(ctx context.Context, what string, watch Watch, step func(ctx context.Context) error) error {
	start := time.Now()
	var blockers []Blocker
	for attempt := 1; ; attempt++ {
		seen, err := runWatched(ctx, p.poll(), watch, step)
		if err == nil || !IsLockTimeout(err) {
			return err
		}
		// An attempt whose wait no poll caught keeps the blockers seen
		// before: the lock is most likely still theirs.
		if len(seen) > 0 {
			blockers = seen
		}
		d := p.Delay(attempt)
		if !p.fits(time.Since(start), d) {
			return &ExhaustedError{What: what, Attempts: attempt, Waited: time.Since(start), Blockers: blockers}
		}
		p.logRetry(what, attempt, time.Since(start), d, blockers)
		if err := sleep(ctx, d); err != nil {
			return fmt.Errorf("%s: stopped while waiting for a lock held by %s: %w", what, Describe(blockers), err)
		}
	}
}

// logRetry writes the one line of a retry.
func (p Policy) logRetry(what string, attempt int, waited, d time.Duration, blockers []Blocker) {
	if p.Log == nil {
		return
	}
	fmt.Fprintf(p.Log, "hmperf: %s: lock wait timed out (attempt %d, %s of %s); blocked by %s; retrying in %s\n",
		what, attempt, round(waited), round(p.budget()), Describe(blockers), round(d))
}

// runWatched runs step while a goroutine polls watch, and returns what the
// last poll that found a blocker saw.
func runWatched(ctx context.Context, every time.Duration, watch Watch, step func(context.Context) error) ([]Blocker, error) {
	if watch == nil {
		return nil, step(ctx)
	}
	var (
		mu   sync.Mutex
		seen []Blocker
	)
	// The watch runs on a context cancelled only if it has not finished
	// soon after the step: cancelling a query in flight closes pgx's
	// connection, which the next attempt still needs, but a watch that
	// waits for a pool connection the step holds must not wait forever.
	watchCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		// The first look comes early: a wait is at most lock_timeout long.
		tick := time.NewTimer(every / 3)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-watchCtx.Done():
				return
			case <-tick.C:
				tick.Reset(every)
			}
			if bs, err := watch(watchCtx); err == nil && len(bs) > 0 {
				mu.Lock()
				seen = bs
				mu.Unlock()
			}
		}
	}()
	err := step(ctx)
	close(stop)
	select {
	case <-finished:
	case <-time.After(watchGrace):
		cancel()
		<-finished
	}
	mu.Lock()
	defer mu.Unlock()
	return seen, err
}

// watchGrace is how long a watch still running when its step ended may
// take to finish before it is cancelled.
const watchGrace = 2 * time.Second

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// IsLockTimeout reports whether err is a lock wait that timed out
// (lock_not_available), as queries.IsLockTimeout classifies it.
func IsLockTimeout(err error) bool { return queries.IsLockTimeout(err) }

// ExhaustedError is a step that gave up: its lock wait kept timing out
// until the budget was spent. The step's transaction was rolled back.
type ExhaustedError struct {
	What     string
	Attempts int
	Waited   time.Duration
	Blockers []Blocker
}

func (e *ExhaustedError) Error() string {
	return fmt.Sprintf("%s: gave up after %s (%d lock waits timed out, nothing changed by this step): blocked by %s; retry once that session ends, or with a longer --lock-wait",
		e.What, round(e.Waited), e.Attempts, Describe(e.Blockers))
}

// round keeps durations readable in messages.
func round(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(100 * time.Millisecond)
}

// Blocker is a session that holds a lock the step waits for, as
// pg_stat_activity shows it.
type Blocker struct {
	PID   int32
	User  string
	App   string
	State string
	// For is how long its transaction (else its query) has been running.
	For   time.Duration
	Query string
}

// maxQuery is how much of the blocker's query a message shows.
const maxQuery = 80

// String renders b on one line: pid, user, application, state, how long,
// and the first line of its query.
func (b Blocker) String() string {
	s := fmt.Sprintf("pid %d (user %s, application %q, %s for %s)", b.PID, orUnknown(b.User), b.App, orUnknown(b.State), b.For.Round(time.Second))
	if q := firstLine(b.Query); q != "" {
		s += ": " + q
	}
	return s
}

// Describe names every blocker on one line.
func Describe(bs []Blocker) string {
	if len(bs) == 0 {
		return "a session hmperf could not see (it released the lock before it was read, or pg_stat_activity hides it from this role)"
	}
	parts := make([]string, len(bs))
	for i, b := range bs {
		parts[i] = b.String()
	}
	return strings.Join(parts, "; ")
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// firstLine is the first non-blank line of q, trimmed to maxQuery runes.
func firstLine(q string) string {
	for _, line := range strings.Split(q, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if r := []rune(line); len(r) > maxQuery {
			return string(r[:maxQuery]) + "…"
		}
		return line
	}
	return ""
}

// blockersSQL reads the sessions that block backend $1.
const blockersSQL = `
SELECT a.pid, coalesce(a.usename, ''), coalesce(a.application_name, ''), coalesce(a.state, ''),
       coalesce(extract(epoch FROM clock_timestamp() - coalesce(a.xact_start, a.query_start)), 0)::float8,
       coalesce(a.query, '')
  FROM pg_stat_activity a
 WHERE a.pid = ANY (pg_blocking_pids($1))
 ORDER BY a.pid`

// BlockersOf is a Watch that reads, on db, the sessions blocking backend
// pid (pg_blocking_pids joined to pg_stat_activity).
func BlockersOf(db queries.DBTX, pid uint32) Watch {
	return func(ctx context.Context) ([]Blocker, error) {
		rows, err := db.Query(ctx, blockersSQL, int32(pid))
		if err != nil {
			return nil, fmt.Errorf("read the sessions blocking backend %d: %w", pid, err)
		}
		out, err := scanBlockers(rows)
		if err != nil {
			return nil, fmt.Errorf("read the sessions blocking backend %d: %w", pid, err)
		}
		return out, nil
	}
}

// scanBlockers reads rows of blockersSQL's columns.
func scanBlockers(rows pgx.Rows) ([]Blocker, error) {
	var out []Blocker
	var b Blocker
	var secs float64
	_, err := pgx.ForEachRow(rows, []any{&b.PID, &b.User, &b.App, &b.State, &secs, &b.Query}, func() error {
		b.For = time.Duration(secs * float64(time.Second))
		out = append(out, b)
		return nil
	})
	return out, err
}
