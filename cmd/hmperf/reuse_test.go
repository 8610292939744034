package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"hmperf/cmd/internal/dashsource"
	"hmperf/queries/pgtest"
	"hmperf/tui/recording"
	"hmperf/tui/source"
)

// TestRecordingTakesTheDashboardsReads: a poll that accepts an answer up to
// an interval old (the recording's) is given the one the dashboard has just
// read, not a second read of the server; a poll that wants a fresh read
// (the dashboard's) reads again, and so does one that accepts an older
// answer when the kept one was read for such a poll. The activity's server
// clock tells a read from a reused answer.
func TestRecordingTakesTheDashboardsReads(t *testing.T) {
	dsn := pgtest.NewMigratedDB(t)
	f := dashsource.NewFleet([]string{"db"}, []*dashsource.DB{pollSource(t, dsn)})
	ctx := context.Background()
	activity := func(ctx context.Context) time.Time {
		t.Helper()
		a, err := f.Activity(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return a.At
	}
	seen := activity(ctx)
	if got := activity(source.WithReuse(ctx, time.Minute)); !got.Equal(seen) {
		t.Errorf("a poll accepting a minute-old answer read the server again (clock %s, the dashboard's read %s)", got, seen)
	}
	fresh := activity(ctx)
	if !fresh.After(seen) {
		t.Errorf("a poll wanting a fresh read got the kept answer (clock %s, kept %s)", fresh, seen)
	}
	own := activity(source.WithReuse(ctx, time.Nanosecond))
	if !own.After(fresh) {
		t.Errorf("a poll accepting a nanosecond-old answer got an older one (clock %s, kept %s)", own, fresh)
	}
	// The recording never takes its own previous read for a new one.
	if got := activity(source.WithReuse(ctx, time.Minute)); !got.After(own) {
		t.Errorf("a poll accepting a minute-old answer got the previous such poll's read (clock %s)", got)
	}
}

// roundTrips counts what a pool sends: each statement alone, and each batch
// (its statements go in one round trip), by the SQL's first words.
type roundTrips struct {
	mu   sync.Mutex
	sent []string
}

func (r *roundTrips) note(sql string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	sql = strings.Join(strings.Fields(sql), " ")
	r.sent = append(r.sent, sql[:min(len(sql), 60)])
}

func (r *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	r.note(d.SQL)
	return ctx
}

func (r *roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (r *roundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	r.note(fmt.Sprintf("batch of %d", d.Batch.Len()))
	return ctx
}

func (r *roundTrips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

func (r *roundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// take returns what was sent since the last take.
func (r *roundTrips) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.sent
	r.sent = nil
	return out
}

// TestIdleTickRoundTrips: a tick of an idle dashboard on Overview that
// records, once the first tick has asked what does not change (the role, the
// server's version), costs 4 round trips for the Overview (the catalogue,
// the schema's version, the alerts, the rate with the latest finished run)
// and 5 for the recording (a sample of the service's writes, the hourly
// rows, the Ingest panel, the servers, the activity), where it cost 26
// before the recording took the dashboard's answers and the reads were
// batched. What each sends is in the failure message.
func TestIdleTickRoundTrips(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewMigratedDB(t)
	tg, err := resolveTarget(ctx, connFlags{dsn: dsn, connectTimeout: 10 * time.Second}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	sent := &roundTrips{}
	cfg.ConnConfig.Tracer = sent
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	src := dashsource.NewFleet([]string{"db"}, []*dashsource.DB{newDBSource(tg, pool, dashboardOpts{})})
	interval := 2 * time.Second
	tick := func() (overview, record []string) {
		if _, err := src.Overview(ctx); err != nil {
			t.Fatal(err)
		}
		overview = sent.take()
		r := recording.Poll(source.WithReuse(ctx, interval), src, false, interval, time.Now)
		if len(r.Errors) > 0 {
			t.Fatalf("the recording's poll failed: %v", r.Errors)
		}
		return overview, sent.take()
	}
	tick()
	time.Sleep(1100 * time.Millisecond) // a sample is taken at most once a second
	overview, record := tick()
	if len(overview) != 4 || len(record) != 5 {
		t.Errorf("a tick sent %d round trips for the Overview and %d for the recording, want 4 and 5:\noverview:\n  %s\nrecording:\n  %s",
			len(overview), len(record), strings.Join(overview, "\n  "), strings.Join(record, "\n  "))
	}
}
