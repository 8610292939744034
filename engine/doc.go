// Package engine holds the record types, validation rules, validation cache,
// deduplication, sample generator and payload decoder of hmperf.
//
// It depends only on the standard library, github.com/hashicorp/golang-lru/v2
// (the validation cache) and github.com/go-json-experiment/json/jsontext (the
// streaming payload decoder): no database driver, so that the ingest writer
// (queries), the TUI and the CLI can all share it.
//
// Flow of a record: DecodePayload or Generator produce Records; a Validator
// checks them against Rules (optionally through a Cache); Dedup and Tracker
// drop duplicates; the writer uses Record.Columns and Record.AppendValues to
// COPY what is left.
package engine
