package migrations_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/migrations"
	"hmperf/queries/lockwait"
	"hmperf/queries/pgtest"
)

// slowSource is two migrations, the second one's file taking 1.5 s before
// it alters the first one's table, so a lock can be taken before the step or
// while it runs.
func slowSource() fstest.MapFS {
	return fstest.MapFS{
		"0001_a.up.sql":      {Data: []byte("CREATE TABLE lw_a (id int);")},
		"0001_a.down.sql":    {Data: []byte("DROP TABLE lw_a;")},
		"0002_slow.up.sql":   {Data: []byte("BEGIN;\nCREATE TABLE lw_b (id int);\nSELECT pg_sleep(1.5);\nALTER TABLE lw_a ADD COLUMN x int;\nCOMMIT;")},
		"0002_slow.down.sql": {Data: []byte("DROP TABLE lw_b;\nALTER TABLE lw_a DROP COLUMN x;")},
	}
}

// holdTable takes mode on table after wait, for d, in a transaction of
// its own.
func holdTable(t *testing.T, dsn, table, mode string, wait, d time.Duration) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer conn.Close(ctx)
		time.Sleep(wait)
		tx, err := conn.Begin(ctx)
		if err != nil {
			return
		}
		defer tx.Rollback(ctx)
		if _, err := tx.Exec(ctx, "LOCK TABLE "+table+" IN "+mode+" MODE"); err != nil {
			return
		}
		time.Sleep(d)
	}()
	t.Cleanup(func() { <-done })
}

// TestStepLockTimeout: a lock wait that times out in a step, on the version
// table before its file runs or halfway through the file, rolls back the file and the version
// together; the retry applies the step once, the version clean. A reader
// of the version table (another hmperf's status) delays nothing: the
// version is written in the step's own transaction, under a lock that
// readers do not conflict with.
func TestStepLockTimeout(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, table, mode string
		// wait is when the table gets locked after Up starts.
		wait  time.Duration
		retry bool
	}{
		{"a writer of the version table (an older hmperf)", "hmperf.schema_migrations", "EXCLUSIVE", 0, true},
		{"halfway through the file", "lw_a", "ACCESS EXCLUSIVE", 500 * time.Millisecond, true},
		{"a reader of the version table", "hmperf.schema_migrations", "ACCESS SHARE", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dsn := pgtest.NewDB(t)
			cfg, err := pgx.ParseConfig(dsn)
			if err != nil {
				t.Fatal(err)
			}
			cfg.RuntimeParams["lock_timeout"] = "300"
			m, err := migrations.NewWithConfig(ctx, cfg, slowSource())
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			var log bytes.Buffer
			m.SetLockWait(lockwait.Policy{Budget: 15 * time.Second, First: 100 * time.Millisecond, Max: 300 * time.Millisecond, Log: &log})
			if err := m.Goto(1); err != nil {
				t.Fatal(err)
			}
			holdTable(t, dsn, tc.table, tc.mode, tc.wait, 2*time.Second)
			if tc.wait == 0 {
				time.Sleep(200 * time.Millisecond) // the lock is held before the step starts
			}
			start := time.Now()
			if err := m.UpContext(ctx); err != nil {
				t.Fatalf("Up: %v\n%s", err, log.String())
			}
			took := time.Since(start)
			st, err := m.Status()
			if err != nil {
				t.Fatal(err)
			}
			if st.Version != 2 || st.Dirty || st.Pending != 0 {
				t.Fatalf("after Up: version %d dirty %v pending %d\n%s", st.Version, st.Dirty, st.Pending, log.String())
			}
			retried := strings.Contains(log.String(), "lock wait timed out")
			if retried != tc.retry {
				t.Errorf("retried %v, want %v (took %s)\n%s", retried, tc.retry, took, log.String())
			}
			t.Logf("took %s\n%s", took, log.String())
		})
	}
}
