package dashsource

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"hmperf/queries/fleet"
	"hmperf/queries/monitor"
	"hmperf/tui/source"
)

// Fleet is the dashboard's source over every server it watches, one
// DB each: the panels read the server their poll's context names
// (source.ServerOf), the Servers panel reads all of them, and every write
// goes to the primary. With one server it is that server's source.
type Fleet struct {
	members []*member
	// servers is the latest Servers answer, for a poll that accepts an
	// older one (source.WithReuse).
	servers recent[[]source.Server]
}

// member is one server of the set: its source, and what the last Servers
// poll read of it (rates need the previous counters; writes need to know
// which server is the primary).
type member struct {
	name string
	src  *DB

	mu   sync.Mutex
	prev fleet.Stats // last good read; zero before the first
	up   bool        // the last poll read it
}

var _ source.Source = (*Fleet)(nil)

// NewFleet is the source over srcs, named by names, in the same order.
func NewFleet(names []string, srcs []*DB) *Fleet {
	f := &Fleet{}
	for i, s := range srcs {
		f.members = append(f.members, &member{name: names[i], src: s})
	}
	return f
}

// shown is the source of the server ctx's poll is for.
func (f *Fleet) shown(ctx context.Context) *DB {
	i := source.ServerOf(ctx)
	if i < 0 || i >= len(f.members) {
		i = 0
	}
	return f.members[i].src
}

func (f *Fleet) Overview(ctx context.Context) (source.Overview, error) {
	s := f.shown(ctx)
	return s.polls.overview.get(ctx, func() (source.Overview, error) { return s.Overview(ctx) })
}

func (f *Fleet) Constraints(ctx context.Context) ([]source.ConstraintRow, error) {
	s := f.shown(ctx)
	return s.polls.constraints.get(ctx, func() ([]source.ConstraintRow, error) { return s.Constraints(ctx) })
}

// Alerts needs no answer of its own kept: the alert check it reads is
// shared already (DB.readAlerts).
func (f *Fleet) Alerts(ctx context.Context) ([]source.Alert, error) {
	return f.shown(ctx).Alerts(ctx)
}

func (f *Fleet) Indexes(ctx context.Context) ([]source.IndexJob, error) {
	s := f.shown(ctx)
	return s.polls.indexes.get(ctx, func() ([]source.IndexJob, error) { return s.Indexes(ctx) })
}

func (f *Fleet) Benchmarks(ctx context.Context) (source.BenchHistory, error) {
	s := f.shown(ctx)
	return s.polls.benchmarks.get(ctx, func() (source.BenchHistory, error) { return s.Benchmarks(ctx) })
}

func (f *Fleet) Ingest(ctx context.Context) (source.IngestStats, error) {
	s := f.shown(ctx)
	return s.polls.ingest.get(ctx, func() (source.IngestStats, error) { return s.Ingest(ctx) })
}

func (f *Fleet) Migrations(ctx context.Context) (source.MigrationStatus, error) {
	s := f.shown(ctx)
	return s.polls.migrations.get(ctx, func() (source.MigrationStatus, error) { return s.Migrations(ctx) })
}

// ServerNames names the servers in command-line order.
func (f *Fleet) ServerNames() []string {
	names := make([]string, len(f.members))
	for i, m := range f.members {
		names[i] = m.name
	}
	return names
}

// Servers reads every server at once, so that one that does not answer
// costs the poll its timeout once, not once per server, then measures the
// replicas' lag against the primary.
func (f *Fleet) Servers(ctx context.Context) ([]source.Server, error) {
	return f.servers.get(ctx, func() ([]source.Server, error) { return f.readServers(ctx), nil })
}

func (f *Fleet) readServers(ctx context.Context) []source.Server {
	stats := make([]fleet.Stats, len(f.members))
	errs := make([]error, len(f.members))
	var wg sync.WaitGroup
	for i, m := range f.members {
		wg.Go(func() { stats[i], errs[i] = fleet.Read(ctx, m.src.pool) })
	}
	wg.Wait()
	read := make([]bool, len(errs))
	for i, err := range errs {
		read[i] = err == nil
	}
	fleet.Reconcile(stats, read)
	out := make([]source.Server, len(f.members))
	for i, m := range f.members {
		wg.Go(func() { out[i] = m.server(ctx, stats[i], errs[i]) })
	}
	wg.Wait()
	return out
}

// server turns one read into the panel's row, with rates against the
// previous read and the server's alerts.
func (m *member) server(ctx context.Context, cur fleet.Stats, err error) source.Server {
	s := source.Server{Name: m.name}
	if err != nil {
		m.record(fleet.Stats{}, false)
		err = m.src.srv.DescribeError(err)
		s.Err, s.AlertsUnknown = err.Error(), err.Error()
		return s
	}
	m.src.setRole(cur.Role == fleet.Replica)
	prev := m.record(cur, true)
	s.Role, s.Version, s.Connections = string(cur.Role), cur.Version, cur.Connections
	s.LagBytes, s.LagSeconds, s.Standbys = cur.LagBytes, cur.LagSeconds, cur.Standbys
	s.TPS, s.InsertsPerSec = fleet.Rate(prev, cur, fleet.TPS), fleet.Rate(prev, cur, fleet.InsertRate)
	// The alert check is read outside the lock: primary() takes it when a
	// write key is pressed, which must not wait on a slow server.
	alerts, aerr := m.src.readAlerts(ctx)
	if aerr != nil {
		s.AlertsUnknown = Explain(ctx, m.src.pool, aerr).Error()
		return s
	}
	for _, a := range alerts {
		if a.Severity == monitor.Critical {
			s.Critical++
		} else {
			s.Warning++
		}
	}
	return s
}

// record notes whether the last poll read the server and, when it did,
// keeps cur as the previous read; it returns the read before cur.
func (m *member) record(cur fleet.Stats, up bool) (prev fleet.Stats) {
	m.mu.Lock()
	defer m.mu.Unlock()
	prev, m.up = m.prev, up
	if up {
		m.prev = cur
	}
	return prev
}

// ReadOnly reports the --read-only flag, which covers every server.
func (f *Fleet) ReadOnly() bool { return f.members[0].src.ReadOnly() }

// errNoPrimary is why a set has nowhere to write.
var errNoPrimary = errors.New("no server of the set answered as primary at the last poll; hmperf writes only to a primary")

// primary is the member writes go to: the one server, or the one the last
// Servers poll read as the primary.
func (f *Fleet) primary() (*member, error) {
	if len(f.members) == 1 {
		return f.members[0], nil
	}
	var found []*member
	for _, m := range f.members {
		m.mu.Lock()
		if m.up && m.prev.Role == fleet.Primary {
			found = append(found, m)
		}
		m.mu.Unlock()
	}
	switch len(found) {
	case 0:
		return nil, errNoPrimary
	case 1:
		return found[0], nil
	}
	return nil, fmt.Errorf("%d servers of the set answered as primary at the last poll (%s, %s): hmperf will not pick one to write to",
		len(found), found[0].name, found[1].name)
}

// WritesTo names the primary of a set, "" with one server.
func (f *Fleet) WritesTo() (string, error) {
	p, err := f.primary()
	if err != nil || len(f.members) == 1 {
		return "", err
	}
	return p.name, nil
}

// onPrimary runs a write on the primary's source.
func (f *Fleet) onPrimary(write func(*DB) error) error {
	p, err := f.primary()
	if err != nil {
		return err
	}
	return write(p.src)
}

func (f *Fleet) RunBenchmark(ctx context.Context, table string, progress func(source.BenchProgress)) error {
	return f.onPrimary(func(s *DB) error { return s.RunBenchmark(ctx, table, progress) })
}

func (f *Fleet) StartIngest(ctx context.Context) error {
	return f.onPrimary(func(s *DB) error { return s.StartIngest(ctx) })
}

// StopIngest stops the sample ingest wherever it runs: the primary may
// have changed since it started.
func (f *Fleet) StopIngest() error {
	var errs []error
	for _, m := range f.members {
		errs = append(errs, m.src.StopIngest())
	}
	return errors.Join(errs...)
}

func (f *Fleet) ProcessIndexes(ctx context.Context) error {
	return f.onPrimary(func(s *DB) error { return s.ProcessIndexes(ctx) })
}

func (f *Fleet) MigrateUp(ctx context.Context) error {
	return f.onPrimary(func(s *DB) error { return s.MigrateUp(ctx) })
}

func (f *Fleet) MigrateDown(ctx context.Context, n int) error {
	return f.onPrimary(func(s *DB) error { return s.MigrateDown(ctx, n) })
}

func (f *Fleet) Force(ctx context.Context, version int) error {
	return f.onPrimary(func(s *DB) error { return s.Force(ctx, version) })
}

// Member is the source of the i-th server of the set, in NewFleet's order.
func (f *Fleet) Member(i int) *DB { return f.members[i].src }
