package engine

import (
	"bytes"
	"reflect"
	"testing"
	"time"
)

// TestEncodePayloadRoundTrip: generated records of every kind, encoded and
// decoded again, are the same records.
func TestEncodePayloadRoundTrip(t *testing.T) {
	g, err := NewGenerator(GenConfig{Seed: 3, End: testNow.Truncate(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	recs := make([]Record, 500)
	for i := range recs {
		recs[i] = g.Next().Record
	}
	var buf bytes.Buffer
	if err := EncodePayload(&buf, recs); err != nil {
		t.Fatal(err)
	}
	var got []Record
	if _, err := DecodePayload(&buf, DecodeOptions{BatchSize: 100}, func(batch []Decoded) error {
		for _, d := range batch {
			if d.Err != nil {
				t.Fatalf("record %d: %v", d.Index, d.Err)
			}
			got = append(got, d.Record)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(recs) {
		t.Fatalf("decoded %d of %d records", len(got), len(recs))
	}
	for i := range recs {
		if want := recs[i].AppendValues(nil); !reflect.DeepEqual(got[i].AppendValues(nil), want) {
			t.Errorf("record %d (%s):\n got  %v\n want %v", i, recs[i].Kind(), got[i].AppendValues(nil), want)
		}
	}
}
