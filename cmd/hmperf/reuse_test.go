package main

import (
	"context"
	"testing"
	"time"

	"hmperf/cmd/internal/dashsource"
	"hmperf/queries/pgtest"
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
