package engine

import (
	"bytes"
	"math"
	"testing"
	"testing/iotest"
	"time"
)

// FuzzDecodePayload: any input decodes without panicking, every record is
// accounted for, and decoded records validate without panicking.
func FuzzDecodePayload(f *testing.F) {
	f.Add([]byte(payload(hrOK)))
	f.Add([]byte(`{"data":{"metrics":[{"type":"Nutrition","recorded_at":"2025-09-09T05:06:07Z","water_ml":-0}]}}`))
	f.Add([]byte(`{"data":null}`))
	rs := DefaultRules()
	f.Fuzz(func(t *testing.T, in []byte) {
		n := 0
		sum, _ := DecodePayload(bytes.NewReader(in), DecodeOptions{BatchSize: 3, DefaultUser: testUser}, func(b []Decoded) error {
			for _, d := range b {
				n++
				if (d.Record == nil) == (d.Err == nil) {
					t.Fatalf("record %d: want exactly one of record and error", d.Index)
				}
				if d.Record != nil {
					rs.Validate(d.Record, nil)
					d.Record.AppendValues(nil)
				}
			}
			return nil
		})
		unsupported := 0
		for _, c := range sum.Unsupported {
			unsupported += c
		}
		if n != sum.Decoded+sum.Rejected || sum.Received != n+unsupported {
			t.Fatalf("summary %+v, yielded %d", sum, n)
		}
	})
}

// FuzzValidate: arbitrary field values never panic, NaN and ±Inf are always
// violations, and the verdict is the same through the cache.
func FuzzValidate(f *testing.F) {
	f.Add(uint8(5), uint8(0), 20000.01, "meal", int64(0))
	f.Add(uint8(0), uint8(0), math.NaN(), "resting", int64(-1))
	f.Add(uint8(6), uint8(0), 10080.0, "fever", int64(1e18))
	rs := DefaultRules().WithClock(func() time.Time { return testNow })
	c, _ := NewCache(64, time.Hour, func() time.Time { return testNow })
	f.Fuzz(func(t *testing.T, kind, slot uint8, v float64, s string, dt int64) {
		k := Kind(kind % NumKinds)
		rec := Baseline(k, testUser, testAt.Add(time.Duration(dt)))
		var ranges []Rule
		for _, r := range rs.For(k) {
			if r.Kind == RuleRange {
				ranges = append(ranges, r)
			}
			if r.Kind == RuleEnum && int(slot)%3 == 0 {
				_ = r.ApplyText(rec, s)
			}
		}
		r := ranges[int(slot)%len(ranges)]
		applied := r.Apply(rec, v) == nil
		vs := rs.Validate(rec, nil)
		if applied && (math.IsNaN(v) || math.IsInf(v, 0)) && len(vs) == 0 {
			t.Fatalf("%s.%s = %v accepted", k, r.Field, v)
		}
		if got := c.Validate(rs, rec, nil); len(got) != len(vs) {
			t.Fatalf("cache verdict %v, direct %v", got, vs)
		}
	})
}

// FuzzDecodeCapped: with caps small enough to cut most values, a file that
// decodes uncapped decodes capped too, with the same records received and
// each record either decoded as uncapped or rejected; read one byte at a
// time, so that cuts fall everywhere.
func FuzzDecodeCapped(f *testing.F) {
	f.Add([]byte(payload(hrOK)))
	f.Add([]byte(payload(hrWith("source_device", `"\ud83d\ude00\u00e9\\\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"`))))
	f.Add([]byte(`{"data":{"metrics":[{"type":"HeartRate","heart_rate":1000000000000000000000000000000000000000000000e5}]}}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		want := decodeFrom(bytes.NewReader(in), DecodeOptions{DefaultUser: testUser}, MaxValueBytes, maxSpaceBytes)
		got := decodeFrom(iotest.OneByteReader(bytes.NewReader(in)), DecodeOptions{DefaultUser: testUser}, testLimit, testSpace)
		if want.ferr != nil {
			return
		}
		if got.ferr != nil || got.sum.Received != want.sum.Received || len(got.recs) > len(want.recs) {
			t.Fatalf("capped: %v, %+v; uncapped %+v", got.ferr, got.sum, want.sum)
		}
	})
}
