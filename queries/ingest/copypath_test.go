package ingest_test

import (
	"context"
	"testing"

	"hmperf/engine"
	"hmperf/queries/ingest"
)

// TestCopyPathReported: the totals say, per table written, how its COPY
// rows were encoded; on hmperf's own layout every table takes the
// encoder's binary path throughout.
func TestCopyPathReported(t *testing.T) {
	pool := newPool(t)
	in := newIngester(t, pool, engine.DefaultPolicy(), engine.ContextBulkImport)
	g := generator(t, 3, 0, 0)
	items := make([]ingest.Item, 2000)
	for i := range items {
		items[i] = ingest.Item{Index: int64(i), Record: g.Next().Record}
	}
	if err := in.Write(context.Background(), items); err != nil {
		t.Fatal(err)
	}
	tot := in.Totals()
	if len(tot.CopyPath) != int(engine.NumKinds) {
		t.Fatalf("copy paths of %d tables, want %d: %v", len(tot.CopyPath), engine.NumKinds, tot.CopyPath)
	}
	for table, path := range tot.CopyPath {
		if path != "binary" {
			t.Errorf("%s: copy path %q, want binary", table, path)
		}
	}
	checkAccounting(t, pool, tot, int64(len(items)))
}
