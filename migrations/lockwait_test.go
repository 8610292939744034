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

// slowSource is two migrations, the second one's file taking 1.5 s, so a
// lock can be taken between golang-migrate's marks around it.
func slowSource() fstest.MapFS {
	return fstest.MapFS{
		"0001_a.up.sql":      {Data: []byte("CREATE TABLE lw_a (id int);")},
		"0001_a.down.sql":    {Data: []byte("DROP TABLE lw_a;")},
		"0002_slow.up.sql":   {Data: []byte("BEGIN;\nCREATE TABLE lw_b (id int);\nSELECT pg_sleep(1.5);\nCOMMIT;")},
		"0002_slow.down.sql": {Data: []byte("DROP TABLE lw_b;")},
	}
}

// holdVersionTable takes ACCESS SHARE on hmperf.schema_migrations after
// wait, for d, as a long `migrate status` of another hmperf would: the
// version marks (TRUNCATE) wait for it.
func holdVersionTable(t *testing.T, dsn string, wait, d time.Duration) {
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
		if _, err := tx.Exec(ctx, "LOCK TABLE hmperf.schema_migrations IN ACCESS SHARE MODE"); err != nil {
			return
		}
		time.Sleep(d)
	}()
	t.Cleanup(func() { <-done })
}

// TestVersionMarkLockTimeout: whichever of golang-migrate's version marks
// times out, before the file or after it committed, the step ends applied
// once, the version clean.
func TestVersionMarkLockTimeout(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// wait is when the version table gets locked after Up starts.
		wait time.Duration
	}{
		{"first mark", 0},
		{"last mark", 500 * time.Millisecond},
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
			holdVersionTable(t, dsn, tc.wait, 2*time.Second)
			if tc.wait == 0 {
				time.Sleep(200 * time.Millisecond) // the lock is held before the step starts
			}
			if err := m.UpContext(ctx); err != nil {
				t.Fatalf("Up: %v\n%s", err, log.String())
			}
			st, err := m.Status()
			if err != nil {
				t.Fatal(err)
			}
			if st.Version != 2 || st.Dirty || st.Pending != 0 {
				t.Fatalf("after Up: version %d dirty %v pending %d\n%s", st.Version, st.Dirty, st.Pending, log.String())
			}
			if !strings.Contains(log.String(), "lock wait timed out") {
				t.Errorf("no retry line: the lock never got in the way\n%s", log.String())
			}
			t.Logf("%s", log.String())
		})
	}
}
