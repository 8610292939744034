package pglaunch_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/queries/pglaunch"
)

// TestReplicaSet runs one primary with two replicas through a replica's
// outage and the primary's: rows written on the primary reach both
// replicas, a stopped replica catches up from its slot after a restart,
// replicas keep serving reads while the primary is down, and Stop removes
// every server and directory.
func TestReplicaSet(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s, err := pglaunch.StartSet(ctx, pglaunch.Options{}, 2)
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = s.Stop()
		}
	}()
	if len(s.Replicas) != 2 || s.Replicas[0].Name() != "replica_1" || s.Replicas[1].Name() != "replica_2" {
		t.Fatalf("replicas %v, want replica_1 and replica_2", s.Replicas)
	}
	if err := s.WaitStreaming(ctx); err != nil {
		t.Fatal(err)
	}
	for i, c := range s.All() {
		checkPrivate(t, c, i > 0)
	}
	execAll(t, s.Primary, `CREATE TABLE t (n int)`, `INSERT INTO t VALUES (1)`)
	waitCount(t, ctx, s.Replicas, 1)
	if err := execErr(s.Replicas[0], `INSERT INTO t VALUES (2)`); err == nil {
		t.Error("a replica accepted an INSERT")
	}

	// A stopped replica: its slot keeps the WAL it misses.
	if err := s.Replicas[0].StopServer(); err != nil {
		t.Fatal(err)
	}
	execAll(t, s.Primary, `INSERT INTO t SELECT generate_series(2, 1000)`)
	if active := queryBool(t, s.Primary, `SELECT active FROM pg_replication_slots WHERE slot_name = 'replica_1'`); active {
		t.Error("the stopped replica's slot is still active")
	}
	if err := s.Replicas[0].StartServer(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitStreaming(ctx); err != nil {
		t.Fatal(err)
	}
	waitCount(t, ctx, s.Replicas, 1000)

	// The primary down: the replicas still answer, as replicas.
	if err := s.Primary.StopServer(); err != nil {
		t.Fatal(err)
	}
	for _, r := range s.Replicas {
		if !queryBool(t, r, `SELECT pg_is_in_recovery() AND (SELECT count(*) = 1000 FROM t)`) {
			t.Errorf("%s: not a replica holding 1000 rows while the primary is down", r.Name())
		}
	}
	if err := s.Primary.StartServer(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitStreaming(ctx); err != nil {
		t.Fatal(err)
	}

	stopped = true
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, c := range s.All() {
		if _, err := os.Stat(c.Dir()); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: directory %s still exists after Stop: %v", c.Name(), c.Dir(), err)
		}
	}
}

// checkPrivate asserts a server's security model: a socket directory of
// mode 0700, no TCP address, and the role the set expects.
func checkPrivate(t *testing.T, c *pglaunch.Cluster, replica bool) {
	t.Helper()
	st, err := os.Stat(c.SocketDir())
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("%s: socket directory %s: %v, mode %v; want 0700", c.Name(), c.SocketDir(), err, st.Mode().Perm())
	}
	if listen := queryText(t, c, `SHOW listen_addresses`); listen != "" {
		t.Errorf("%s: listen_addresses = %q, want none", c.Name(), listen)
	}
	if got := queryBool(t, c, `SELECT pg_is_in_recovery()`); got != replica {
		t.Errorf("%s: pg_is_in_recovery() = %v, want %v", c.Name(), got, replica)
	}
}

func waitCount(t *testing.T, ctx context.Context, servers []*pglaunch.Cluster, want int) {
	t.Helper()
	for _, r := range servers {
		for {
			var n int
			conn, err := pgx.Connect(ctx, r.DSN("postgres"))
			if err == nil {
				err = conn.QueryRow(ctx, `SELECT count(*) FROM t`).Scan(&n)
				conn.Close(ctx)
			}
			if err == nil && n == want {
				break
			}
			select {
			case <-ctx.Done():
				t.Fatalf("%s: %d rows (%v), want %d", r.Name(), n, err, want)
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}

func execErr(c *pglaunch.Cluster, sql string) error {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

func execAll(t *testing.T, c *pglaunch.Cluster, sqls ...string) {
	t.Helper()
	for _, sql := range sqls {
		if err := execErr(c, sql); err != nil {
			t.Fatalf("%s: %s: %v", c.Name(), sql, err)
		}
	}
}

func queryBool(t *testing.T, c *pglaunch.Cluster, sql string) bool {
	t.Helper()
	var b bool
	query(t, c, sql, &b)
	return b
}

func queryText(t *testing.T, c *pglaunch.Cluster, sql string) string {
	t.Helper()
	var s string
	query(t, c, sql, &s)
	return s
}

func query(t *testing.T, c *pglaunch.Cluster, sql string, dst any) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, sql).Scan(dst); err != nil {
		t.Fatalf("%s: %s: %v", c.Name(), sql, err)
	}
}
