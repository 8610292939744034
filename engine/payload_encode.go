package engine

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// EncodePayload writes recs as an ingest payload in the service's format,
// {"data": {"metrics": [...]}}, each record tagged with its payload type and
// its fields named as its columns, which DecodePayload reads back: payloads
// of generated records for tests and for replaying a sample elsewhere.
// NULL fields are left out; a value JSON cannot hold (NaN) is an error.
func EncodePayload(w io.Writer, recs []Record) error {
	metrics := make([]map[string]any, len(recs))
	var vals []any
	for i, r := range recs {
		m := map[string]any{"type": r.Kind().PayloadType()}
		vals = r.AppendValues(vals[:0])
		for j, col := range r.Columns() {
			if v := payloadValue(vals[j]); v != nil {
				m[col] = v
			}
		}
		metrics[i] = m
	}
	doc := map[string]any{"data": map[string]any{"metrics": metrics}}
	if err := json.NewEncoder(w).Encode(doc); err != nil {
		return fmt.Errorf("encode payload: %w", err)
	}
	return nil
}

// payloadValue is a row value as the payload carries it.
func payloadValue(v any) any {
	switch v := v.(type) {
	case [16]byte:
		return UUID(v).String()
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	}
	return v
}
