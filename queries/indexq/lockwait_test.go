package indexq_test

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"hmperf/queries/indexq"
	"hmperf/queries/lockwait"
)

// lockFor holds lock (a LOCK TABLE mode clause) on table for d from a
// session of another application, and returns its pid.
func (b bundle) lockFor(t *testing.T, table, mode string, d time.Duration) uint32 {
	t.Helper()
	ctx := context.Background()
	cfg, err := pgx.ParseConfig(b.dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["application_name"] = "service"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "LOCK TABLE "+pgx.Identifier{table}.Sanitize()+" IN "+mode+" MODE"); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		time.Sleep(d)
		_ = tx.Rollback(ctx)
		_ = conn.Close(ctx)
	}()
	t.Cleanup(func() { <-done })
	return conn.PgConn().PID()
}

// TestLockWaitsRetried: with lock_timeout shorter than the service's
// block, partition maintenance (a new month of a table with a key to users
// locks users) and an index build (CREATE INDEX CONCURRENTLY waits for a
// SHARE lock) retry, naming the blocker, and finish once it is gone.
func TestLockWaitsRetried(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(b.dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["lock_timeout"] = "200"
	cfg.MaxConns = 3
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	var log bytes.Buffer
	p := lockwait.Policy{Budget: 20 * time.Second, First: 100 * time.Millisecond, Max: 300 * time.Millisecond, Log: &log}

	b.exec(t, "UPDATE hmperf.partition_maintenance SET months_ahead = months_ahead + 2 WHERE parent_table = 'activity_metrics_v2'")
	pid := b.lockFor(t, "users", "ROW EXCLUSIVE", 1200*time.Millisecond)
	n, err := indexq.MaintainPartitionsOneByOne(ctx, pool, p)
	if err != nil || n != 2 {
		t.Fatalf("MaintainPartitionsOneByOne = %d, %v; want 2 new partitions after the block", n, err)
	}
	wantRetry(t, &log, "create the monthly partitions of activity_metrics_v2", pid)

	b.items(t, 1000)
	b.enqueue(t, indexq.Spec{Table: "idxq_items", Index: "idxq_a_waited", Method: "btree", Columns: []string{"a"}})
	pid = b.lockFor(t, "idxq_items", "SHARE", 1200*time.Millisecond)
	w := indexq.Worker{Pool: pool, ID: "test", Lock: p}
	sum, err := w.Process(ctx, 0)
	if err != nil || sum.Built != 1 {
		t.Fatalf("Process = %+v, %v; want the index built after the block", sum, err)
	}
	wantRetry(t, &log, "build index idxq_a_waited on idxq_items", pid)
}

// wantRetry checks log has a retry line of step naming pid, and empties it.
func wantRetry(t *testing.T, log *bytes.Buffer, step string, pid uint32) {
	t.Helper()
	for _, l := range strings.Split(log.String(), "\n") {
		if strings.Contains(l, step) && strings.Contains(l, "pid "+strconv.Itoa(int(pid))+" ") && strings.Contains(l, `application "service"`) {
			log.Reset()
			return
		}
	}
	t.Errorf("no retry line of %q naming pid %d:\n%s", step, pid, log.String())
}
