package indexcmd

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"hmperf/cmd/internal/cmdout"
	"hmperf/cmd/internal/dbtarget"
	"hmperf/queries/pgtest"
)

// TestRun: status of an empty queue is two empty lists in JSON; process
// maintains the partitions first, then finds nothing to build.
func TestRun(t *testing.T) {
	dsn := pgtest.NewMigratedDB(t)
	ctx := context.Background()
	tgt, err := dbtarget.New(dsn, dbtarget.Settings{Command: "hmperf indexes", LockTimeout: time.Second, LockWait: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	o := Options{Out: &out, Err: &errOut, JSON: true, Worker: "test", Backoff: time.Second}
	var doc cmdout.IndexesStatus
	if err := Run(ctx, tgt, "status", o); err != nil || json.Unmarshal(out.Bytes(), &doc) != nil {
		t.Fatalf("status: %v, %q", err, out.String())
	}
	if doc.Queue == nil || doc.Performance == nil || len(doc.Queue) != 0 || len(doc.Performance) != 0 {
		t.Errorf("status of an empty queue: %+v", doc)
	}
	out.Reset()
	o.JSON = false
	if err := Run(ctx, tgt, "process", o); err != nil || !strings.HasPrefix(out.String(), "partitions: ") {
		t.Errorf("process: %v, stdout %q, stderr %q", err, out.String(), errOut.String())
	}
}
