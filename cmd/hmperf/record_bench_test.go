package main

import (
	"context"
	"testing"
	"time"

	"hmperf/cmd/internal/dashsource"
	"hmperf/queries/pgtest"
	"hmperf/tui/recording"
)

// BenchmarkRecordPoll measures what the dashboard's recorder costs per
// record on an idle migrated database: one Poll of every panel it reads
// each interval (not the slow ones) and the record's append. Run with
// -cpuprofile to see where the client's CPU goes.
//
//	go test ./cmd/hmperf -run '^$' -bench BenchmarkRecordPoll -benchtime 200x
func BenchmarkRecordPoll(b *testing.B) {
	dsn := pgtest.NewMigratedDB(b)
	src := dashsource.NewFleet([]string{"bench"}, []*dashsource.DB{pollSource(b, dsn)})
	w, err := recording.Create(b.TempDir()+"/bench.hmrec", recording.Header{}, 0, -1)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	ctx := context.Background()
	for b.Loop() {
		if err := w.Append(recording.Poll(ctx, src, false, 5*time.Second, time.Now)); err != nil {
			b.Fatal(err)
		}
	}
}
