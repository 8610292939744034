package engine_test

import (
	"reflect"
	"testing"
	"time"

	"hmperf/engine"
)

// TestAccessorsMatchAppendValues: for generated records of every kind,
// valid and invalid, and for zero records (empty texts, zero times, NULL
// optionals), each typed accessor reads the value AppendValues boxes, with
// its type, and NULL where it gives nil.
func TestAccessorsMatchAppendValues(t *testing.T) {
	g, err := engine.NewGenerator(engine.GenConfig{Seed: 7, InvalidRate: 0.3, End: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	recs := []engine.Record{&engine.HeartRate{}, &engine.BloodPressure{}, &engine.Sleep{}, &engine.Workout{},
		&engine.Activity{}, &engine.Nutrition{}, &engine.Symptom{Triggers: []string{}}}
	for range 5000 {
		recs = append(recs, g.Next().Record)
	}
	for _, r := range recs {
		vals := r.AppendValues(nil)
		kinds := engine.CellKinds(r.Kind())
		if len(kinds) != len(vals) {
			t.Fatalf("%s: %d kinds for %d values", r.Kind(), len(kinds), len(vals))
		}
		for i, v := range vals {
			if got := valueAt(r, i, kinds[i]); !reflect.DeepEqual(got, v) {
				t.Fatalf("%s column %s: accessor %#v, AppendValues %#v", r.Kind(), r.Columns()[i], got, v)
			}
		}
	}
}

func valueAt(r engine.Record, i int, k engine.CellKind) any {
	nullable := func(v any, ok bool) any {
		if !ok {
			return nil
		}
		return v
	}
	switch k {
	case engine.CellUUID:
		return [16]byte(engine.UUIDAt(r, i))
	case engine.CellTime:
		return nullable(engine.TimeAt(r, i))
	case engine.CellInt:
		v, ok := engine.NumAt(r, i)
		return nullable(int32(v), ok)
	case engine.CellNum:
		return nullable(engine.NumAt(r, i))
	case engine.CellBool:
		return engine.BoolAt(r, i)
	case engine.CellText:
		return nullable(engine.TextAt(r, i))
	case engine.CellStrings:
		return nullable(engine.StringsAt(r, i))
	}
	return "unknown kind"
}
