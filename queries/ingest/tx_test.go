package ingest_test

import (
	"context"
	"testing"
	"time"

	"hmperf/engine"
	"hmperf/queries/ingest"
)

// TestIngestInsideATransaction runs an ingest inside one transaction (its
// batches in savepoints) and rolls it back: the rows were there inside it,
// and nothing is left after.
func TestIngestInsideATransaction(t *testing.T) {
	t.Parallel()
	pool := newPool(t)
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	cache, err := engine.NewCache(1000, time.Hour, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	in, err := ingest.Open(ctx, tx, ingest.Options{Context: engine.ContextAPI, Writers: 1,
		Validator: engine.NewValidator(engine.DefaultRules(), engine.DefaultPolicy(), cache), Cache: cache, CreateUsers: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := ingest.RunSample(ctx, in, generator(t, 3, 0, 0), 300, 100, nil); err != nil {
		t.Fatal(err)
	}
	var inside, after int64
	const q = "SELECT count(*) FROM hmperf.ingest_batch_stats"
	if err := tx.QueryRow(ctx, q).Scan(&inside); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, q).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if inside == 0 || after != 0 || in.Totals().Inserted == 0 {
		t.Errorf("batch stats %d inside the transaction, %d after its rollback, %d rows inserted; want some, 0, some", inside, after, in.Totals().Inserted)
	}
}
