package activity_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"

	"hmperf/queries"
	"hmperf/queries/activity"
	"hmperf/queries/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// connect opens a connection labelled name, closed at cleanup.
func connect(t *testing.T, dsn, name string) *pgx.Conn {
	t.Helper()
	return pgtest.Connect(t, dsn, name)
}

func exec(t *testing.T, c *pgx.Conn, sql string) {
	t.Helper()
	if _, err := c.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// scene is a blocker holding an exclusive lock, a waiter behind it, a
// third session behind both, and an idle-in-transaction session with an
// xid older than all of them.
type scene struct {
	idle, holder, waiter, third int
	// wg[0] waits for the waiter's statement, wg[1] for the third's.
	wg   [2]sync.WaitGroup
	errs [2]error
}

func pidOf(t *testing.T, c *pgx.Conn) int {
	t.Helper()
	var pid int
	if err := c.QueryRow(context.Background(), "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	return pid
}

// stage builds the scene on dsn; the waiting statements run in goroutines
// that the cleanup waits for, after rolling the holder back.
func stage(t *testing.T, dsn string) *scene {
	t.Helper()
	ctx := context.Background()
	s := &scene{}
	idle, holder := connect(t, dsn, "test idle"), connect(t, dsn, "test holder")
	waiter, third := connect(t, dsn, "test waiter"), connect(t, dsn, "test third")
	exec(t, holder, "CREATE TABLE locked (v int)")
	exec(t, idle, "BEGIN")
	exec(t, idle, "SELECT txid_current()")
	exec(t, holder, "BEGIN")
	exec(t, holder, "LOCK TABLE locked IN ACCESS EXCLUSIVE MODE")
	s.idle, s.holder, s.waiter, s.third = pidOf(t, idle), pidOf(t, holder), pidOf(t, waiter), pidOf(t, third)
	exec(t, waiter, "BEGIN")
	exec(t, third, "BEGIN")
	s.wg[0].Add(1)
	s.wg[1].Add(1)
	go func() {
		defer s.wg[0].Done()
		_, s.errs[0] = waiter.Exec(ctx, "LOCK TABLE locked IN SHARE MODE")
	}()
	waitFor(t, dsn, s.waiter)
	go func() {
		defer s.wg[1].Done()
		// ROW EXCLUSIVE conflicts with the held ACCESS EXCLUSIVE and with
		// the SHARE request queued ahead of it.
		_, s.errs[1] = third.Exec(ctx, "INSERT INTO locked VALUES (1)")
	}()
	waitFor(t, dsn, s.third)
	t.Cleanup(func() {
		_, _ = holder.Exec(ctx, "ROLLBACK")
		s.wg[0].Wait()
		_, _ = waiter.Exec(ctx, "ROLLBACK")
		s.wg[1].Wait()
		_, _ = third.Exec(ctx, "ROLLBACK")
	})
	return s
}

// waitFor waits until pid waits on a lock.
func waitFor(t *testing.T, dsn string, pid int) {
	t.Helper()
	c := connect(t, dsn, "test watcher")
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		var waiting bool
		if err := c.QueryRow(context.Background(), "SELECT coalesce(wait_event_type = 'Lock', false) FROM pg_stat_activity WHERE pid = $1", pid).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting {
			return
		}
	}
	t.Fatalf("pid %d never waited on a lock", pid)
}

func find(t *testing.T, snap activity.Snapshot, pid int) activity.Session {
	t.Helper()
	for _, s := range snap.Sessions {
		if s.PID == pid {
			return s
		}
	}
	t.Fatalf("pid %d not among the sessions read: %+v", pid, snap.Sessions)
	return activity.Session{}
}

func TestLockTree(t *testing.T) {
	dsn := pgtest.NewDB(t)
	s := stage(t, dsn)
	reader := connect(t, dsn, "hmperf activity")
	time.Sleep(1100 * time.Millisecond) // so that the ages below are measurably over a second
	snap, err := activity.Read(context.Background(), reader)
	if err != nil {
		t.Fatal(err)
	}
	checkScene(t, snap, s)
}

func checkScene(t *testing.T, snap activity.Snapshot, s *scene) {
	t.Helper()
	holder, waiter, third, idle := find(t, snap, s.holder), find(t, snap, s.waiter), find(t, snap, s.third), find(t, snap, s.idle)
	if len(holder.BlockedBy) != 0 || !holder.Root || holder.HoldsUp != 2 {
		t.Errorf("holder = blocked by %v, root %v, holds up %d; want blocked by none, root, holds up 2", holder.BlockedBy, holder.Root, holder.HoldsUp)
	}
	if !slices.Equal(waiter.BlockedBy, []int{s.holder}) || waiter.Root || waiter.HoldsUp != 1 {
		t.Errorf("waiter = blocked by %v, root %v, holds up %d; want [%d], not a root, holds up 1", waiter.BlockedBy, waiter.Root, waiter.HoldsUp, s.holder)
	}
	got := slices.Sorted(slices.Values(third.BlockedBy))
	want := slices.Sorted(slices.Values([]int{s.holder, s.waiter}))
	if !slices.Equal(got, want) {
		t.Errorf("third blocked by %v, want both %v", got, want)
	}
	if !slices.Equal(snap.Roots, []activity.Root{{PID: s.holder, HoldsUp: 2}}) {
		t.Errorf("roots = %+v, want only the holder %d holding up 2", snap.Roots, s.holder)
	}
	if waiter.WaitEventType != "Lock" || waiter.WaitEvent != "relation" || waiter.State != "active" {
		t.Errorf("waiter waits on %s/%s in state %q, want Lock/relation, active", waiter.WaitEventType, waiter.WaitEvent, waiter.State)
	}
	if waiter.Query != "LOCK TABLE locked IN SHARE MODE" || waiter.ApplicationName != "test waiter" {
		t.Errorf("waiter query %q, application %q", waiter.Query, waiter.ApplicationName)
	}
	if waiter.LockWaitSeconds == nil || *waiter.LockWaitSeconds < 1 {
		t.Errorf("waiter's lock wait = %v, want over the second the test slept", waiter.LockWaitSeconds)
	}
	if !idle.IdleInTransaction() || idle.XactAgeSeconds == nil || *idle.XactAgeSeconds < 1 {
		t.Errorf("idle session: state %q, transaction age %v; want idle in transaction for over a second", idle.State, idle.XactAgeSeconds)
	}
	h := snap.XminHolder
	if h == nil || h.Kind != "session" || h.ID != strconv.Itoa(s.idle) || h.AgeSeconds == nil || *h.AgeSeconds < 1 || h.XidAge < 1 {
		t.Errorf("xmin holder = %+v, want session %d with its ages", h, s.idle)
	}
}

// TestMonitoringRoleSeesTheTree reads the same scene as a role that has
// pg_monitor and nothing else: it sees every query and the whole tree.
func TestMonitoringRoleSeesTheTree(t *testing.T) {
	dsn := pgtest.NewDB(t)
	admin := connect(t, dsn, "test admin")
	exec(t, admin, "CREATE ROLE hmperf_act_mon LOGIN PASSWORD 'pw-act-mon' IN ROLE pg_monitor")
	t.Cleanup(func() { exec(t, admin, "DROP ROLE hmperf_act_mon") })
	s := stage(t, dsn)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.User, cfg.Password = "hmperf_act_mon", "pw-act-mon"
	mon := connect(t, pgtest.DSN(cfg), "hmperf activity")
	time.Sleep(1100 * time.Millisecond)
	snap, err := activity.Read(context.Background(), mon)
	if err != nil {
		t.Fatal(err)
	}
	checkScene(t, snap, s)
}

func TestCancelAndTerminate(t *testing.T) {
	dsn := pgtest.NewDB(t)
	s := stage(t, dsn)
	reader := connect(t, dsn, "hmperf activity")
	ctx := context.Background()
	snap, err := activity.Read(ctx, reader)
	if err != nil {
		t.Fatal(err)
	}
	third, waiter := find(t, snap, s.third), find(t, snap, s.waiter)
	if err := activity.Cancel(ctx, reader, third.PID, third.BackendStart.Add(time.Second)); !errors.Is(err, activity.ErrGone) {
		t.Errorf("cancel with another backend start = %v, want ErrGone", err)
	}
	if err := activity.Cancel(ctx, reader, third.PID, third.BackendStart); err != nil {
		t.Fatal(err)
	}
	if err := activity.Terminate(ctx, reader, waiter.PID, waiter.BackendStart); err != nil {
		t.Fatal(err)
	}
	s.wg[0].Wait()
	s.wg[1].Wait()
	if code := queries.Code(s.errs[1]); code != pgerrcode.QueryCanceled {
		t.Errorf("cancelled insert ended with %v, want query_canceled", s.errs[1])
	}
	if s.errs[0] == nil {
		t.Error("terminated session's LOCK succeeded")
	}
	// Its client has the error before the backend has exited: until then
	// the server lists it, and a signal still reaches it.
	waitGone(t, reader, waiter.PID)
	if err := activity.Terminate(ctx, reader, waiter.PID, waiter.BackendStart); !errors.Is(err, activity.ErrGone) {
		t.Errorf("terminating an ended session = %v, want ErrGone", err)
	}
}

// waitGone waits, up to ten seconds, until the server no longer lists the
// backend pid.
func waitGone(t *testing.T, conn *pgx.Conn, pid int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var listed bool
		if err := conn.QueryRow(context.Background(), "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1)", pid).Scan(&listed); err != nil {
			t.Fatal(err)
		}
		if !listed {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pid %d still listed ten seconds after it was terminated", pid)
		}
	}
}

func TestProgress(t *testing.T) {
	dsn := pgtest.NewDB(t)
	ctx := context.Background()
	holder, builder := connect(t, dsn, "test holder"), connect(t, dsn, "test builder")
	exec(t, holder, "CREATE TABLE big AS SELECT g AS v FROM generate_series(1, 1000) g")
	exec(t, holder, "BEGIN ISOLATION LEVEL REPEATABLE READ")
	exec(t, holder, "SELECT count(*) FROM big")
	// CREATE INDEX CONCURRENTLY waits for the older snapshot, showing
	// its progress row meanwhile.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, _ = builder.Exec(ctx, "CREATE INDEX CONCURRENTLY big_v ON big (v)")
	}()
	t.Cleanup(wg.Wait)
	t.Cleanup(func() { _, _ = holder.Exec(ctx, "ROLLBACK") })
	reader := connect(t, dsn, "hmperf activity")
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		snap, err := activity.Read(ctx, reader)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range snap.Progress {
			if p.Command == "CREATE INDEX CONCURRENTLY" && strings.Contains(p.Relation, "big") {
				return
			}
		}
	}
	t.Fatal("no progress row for the CREATE INDEX CONCURRENTLY")
}
