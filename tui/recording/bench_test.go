package recording

import (
	"testing"
	"time"

	"hmperf/tui/source"
)

// bigRecord is a record of the size an idle dashboard's polls make: 48
// hours of constraint rows for ten tables, 60 ingest rate points, 20
// sessions.
func bigRecord() Record {
	r := sample(1)
	for table := range 10 {
		for h := range 48 {
			r.Constraints = append(r.Constraints, source.ConstraintRow{Table: "table_" + string(rune('a'+table)),
				HourBucket: t0.Add(-time.Duration(h) * time.Hour), Rows: int64(h * 1000), RowsPerSec: ptr(1234.5)})
		}
	}
	r.Overview = &source.Overview{Server: "db"}
	for i := range 60 {
		r.Overview.IngestRate = append(r.Overview.IngestRate, source.RatePoint{At: t0.Add(time.Duration(i) * time.Minute), RowsPerSec: 600})
	}
	for i := range 20 {
		r.Activity.Sessions = append(r.Activity.Sessions, source.Session{PID: 1000 + i, State: "idle", Query: "SELECT 1"})
	}
	return r
}

// BenchmarkEncode is the client-side cost of one record: JSON, DEFLATE and
// the frame.
func BenchmarkEncode(b *testing.B) {
	r := bigRecord()
	var e encoder
	b.ReportAllocs()
	var n int
	for b.Loop() {
		frame, err := e.encode(r)
		if err != nil {
			b.Fatal(err)
		}
		n = len(frame)
	}
	b.ReportMetric(float64(n), "frame-bytes")
}
