// Package source defines what the dashboard reads and writes, as plain data
// types and two small interfaces. It knows nothing about PostgreSQL: the real
// implementation lives with the command that wires the database in, and the
// tests use a fake.
package source

import (
	"context"
	"time"
)

// Poller reads the data one panel shows. Every method is called with a
// context that carries a timeout; an implementation should honour it and
// return promptly once the context is done. An answer is shared, not
// copied: neither the caller nor the implementation changes it once
// returned (a panel that sorts copies first).
type Poller interface {
	Overview(ctx context.Context) (Overview, error)
	Constraints(ctx context.Context) ([]ConstraintRow, error)
	Alerts(ctx context.Context) ([]Alert, error)
	Indexes(ctx context.Context) ([]IndexJob, error)
	Benchmarks(ctx context.Context) (BenchHistory, error)
	Ingest(ctx context.Context) (IngestStats, error)
	Migrations(ctx context.Context) (MigrationStatus, error)
	// Servers reads every server of the set, each within ctx's timeout;
	// a server that cannot be read has its Err set, it does not fail the
	// poll.
	Servers(ctx context.Context) ([]Server, error)
	// ServerNames names the servers, in order; the other polls read the
	// one ServerOf their context picks.
	ServerNames() []string
}

// serverKey is the context key of the server a poll is for.
type serverKey struct{}

// WithServer returns ctx for a poll of server i of ServerNames.
func WithServer(ctx context.Context, i int) context.Context {
	return context.WithValue(ctx, serverKey{}, i)
}

// reuseKey is the context key of how old an answer a poll accepts.
type reuseKey struct{}

// WithReuse returns ctx for a poll that may be answered by a read of the
// same data for the same server made at most age ago, by anyone (the
// recording takes what the dashboard has just read instead of asking the
// server again). A poll without it wants a fresh read.
func WithReuse(ctx context.Context, age time.Duration) context.Context {
	return context.WithValue(ctx, reuseKey{}, age)
}

// ReuseOf is the age of an answer ctx's poll accepts: 0 (a fresh read)
// when WithReuse did not set one.
func ReuseOf(ctx context.Context) time.Duration {
	age, _ := ctx.Value(reuseKey{}).(time.Duration)
	return age
}

// ServerOf is the server a poll's context is for: the index WithServer
// gave, 0 (the first) when none.
func ServerOf(ctx context.Context) int {
	i, _ := ctx.Value(serverKey{}).(int)
	return i
}

// Actions are the writes the dashboard can start. ReadOnly reports whether
// they are all disabled (the --read-only flag); the dashboard then never calls
// the other methods.
type Actions interface {
	ReadOnly() bool
	// RunBenchmark runs the benchmark for one table ("nutrition", "symptoms",
	// "activity") or for all of them (table == "all"), calling progress from
	// its own goroutine as the run advances. Cancelling ctx stops the run.
	RunBenchmark(ctx context.Context, table string, progress func(BenchProgress)) error
	// StartIngest starts a sample ingest in the background and returns once
	// it is running; StopIngest stops it.
	StartIngest(ctx context.Context) error
	StopIngest() error
	// ProcessIndexes builds the queued deferred indexes and returns when the
	// queue has been worked through.
	ProcessIndexes(ctx context.Context) error
	MigrateUp(ctx context.Context) error
	MigrateDown(ctx context.Context, n int) error
	// Force records version as the schema version and clears the dirty flag,
	// without running any migration.
	Force(ctx context.Context, version int) error
	// WritesTo names the server every write goes to, whichever server the
	// panels show: the primary of a set ("" with a single server). An
	// error says why there is none to write to.
	WritesTo() (string, error)
}

// Source is everything the dashboard needs from the outside world.
type Source interface {
	Poller
	Actions
}
