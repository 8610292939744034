package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"hmperf/engine"
	"hmperf/queries/pgtest"
)

// TestIngestBatchRetriesLockTimeout: a batch that waits for a row lock
// longer than lock_timeout (here the service's transaction inserting the
// same user, uncommitted) is rolled back and tried again within
// --lock-wait, so the import completes once the service commits, instead of
// failing on "canceling statement due to lock timeout".
func TestIngestBatchRetriesLockTimeout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := pgtest.NewMigratedDB(t)
	const id = "5b0f7f7e-8c3a-4d52-9a61-0f1e2d3c4b5a"
	user, err := engine.ParseUUID(id)
	if err != nil {
		t.Fatal(err)
	}
	path, per := generatedPayload(t, []engine.UUID{user}, 300)

	conn := serviceSession(t, dsn, blockerApp)
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO users (id, email) VALUES ($1, 'signup@example.com')", id); err != nil {
		t.Fatal(err)
	}
	committed := make(chan error, 1)
	go func() {
		time.Sleep(2 * time.Second)
		committed <- tx.Commit(ctx)
	}()

	r := runCmd(ctx, "", "ingest", "--file", path, "--create-users", "--json", "--lock-timeout", "300ms", "--dsn", dsn)
	if err := <-committed; err != nil {
		t.Fatal(err)
	}
	if r.code != 0 {
		t.Fatalf("ingest behind the service's uncommitted user: exit %d\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "lock wait timed out") {
		t.Errorf("stderr does not say a batch waited for a lock and retried:\n%s", r.stderr)
	}
	out := decodeIngest(t, r)
	if out.Inserted+out.Duplicates != per[user] || out.Rejected != 0 {
		t.Errorf("inserted %d, duplicates %d, rejected %d of %d records; want every record stored or a duplicate",
			out.Inserted, out.Duplicates, out.Rejected, per[user])
	}
	if created := decodeCreated(t, r); created.CreatedUsers != nil && len(created.CreatedUsers.IDs) != 0 {
		t.Errorf("created users %v: the user is the service's, committed by it", created.CreatedUsers.IDs)
	}
}
