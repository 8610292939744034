package main

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/queries/pgtest"
)

// lockScene holds an exclusive lock in one session, queues a SHARE request
// behind it and an INSERT behind both, next to an idle-in-transaction
// session; it returns the four pids (idle, holder, waiter, third).
func lockScene(t *testing.T, dsn string) [4]int {
	t.Helper()
	ctx := context.Background()
	var conns [4]*pgx.Conn
	var pids [4]int
	for i := range conns {
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close(context.Background()) })
		conns[i] = c
		if err := c.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pids[i]); err != nil {
			t.Fatal(err)
		}
	}
	for _, step := range []struct {
		c   int
		sql string
	}{{1, "CREATE TABLE scene_locked (v int)"}, {0, "BEGIN"}, {0, "SELECT txid_current()"},
		{1, "BEGIN"}, {1, "LOCK TABLE scene_locked IN ACCESS EXCLUSIVE MODE"}, {2, "BEGIN"}, {3, "BEGIN"}} {
		if _, err := conns[step.c].Exec(ctx, step.sql); err != nil {
			t.Fatalf("%s: %v", step.sql, err)
		}
	}
	var wg [2]sync.WaitGroup
	for i, sql := range []string{"LOCK TABLE scene_locked IN SHARE MODE", "INSERT INTO scene_locked VALUES (1)"} {
		wg[i].Add(1)
		go func() {
			defer wg[i].Done()
			_, _ = conns[2+i].Exec(ctx, sql)
		}()
		waitLockWait(t, dsn, pids[2+i])
	}
	t.Cleanup(func() {
		for i, c := range conns[1:] {
			_, _ = c.Exec(ctx, "ROLLBACK")
			if i < 2 {
				wg[i].Wait()
			}
		}
	})
	return pids
}

func waitLockWait(t *testing.T, dsn string, pid int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		var waiting bool
		queryRow(t, dsn, "SELECT coalesce(wait_event_type = 'Lock', false) FROM pg_stat_activity WHERE pid = "+strconv.Itoa(pid), &waiting)
		if waiting {
			return
		}
	}
	t.Fatalf("pid %d never waited on a lock", pid)
}

// TestActivityJSON: the check on a real server. Both waiters list
// the holder in blocked_by, the third lists both; the idle-in-transaction
// session shows with its age and holds the oldest xmin.
func TestActivityJSON(t *testing.T) {
	dsn := pgtest.NewDB(t)
	pids := lockScene(t, dsn)
	time.Sleep(1100 * time.Millisecond)
	r := runCmd(context.Background(), "", "activity", "--json", "--dsn", dsn)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var doc struct {
		Sessions []struct {
			PID       int      `json:"pid"`
			BlockedBy []int    `json:"blocked_by"`
			State     string   `json:"state"`
			WaitType  string   `json:"wait_event_type"`
			Wait      string   `json:"wait_event"`
			XactAge   *float64 `json:"xact_age_seconds"`
			QueryAge  *float64 `json:"query_age_seconds"`
			Query     string   `json:"query"`
		} `json:"sessions"`
		Roots []struct {
			PID     int `json:"pid"`
			HoldsUp int `json:"holds_up"`
		} `json:"roots"`
		XminHolder *struct {
			Kind       string   `json:"kind"`
			ID         string   `json:"id"`
			AgeSeconds *float64 `json:"age_seconds"`
		} `json:"xmin_holder"`
		Progress []json.RawMessage `json:"progress"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	blocked := map[int][]int{}
	for _, s := range doc.Sessions {
		blocked[s.PID] = slices.Sorted(slices.Values(s.BlockedBy))
		if s.PID == pids[0] && (s.State != "idle in transaction" || s.XactAge == nil || *s.XactAge < 1) {
			t.Errorf("idle session: state %q, transaction age %v", s.State, s.XactAge)
		}
		if s.PID == pids[2] && (s.WaitType != "Lock" || s.Query != "LOCK TABLE scene_locked IN SHARE MODE" || s.QueryAge == nil) {
			t.Errorf("waiter: %+v", s)
		}
	}
	if !slices.Equal(blocked[pids[2]], []int{pids[1]}) {
		t.Errorf("waiter blocked by %v, want [%d]", blocked[pids[2]], pids[1])
	}
	if want := slices.Sorted(slices.Values(pids[1:3])); !slices.Equal(blocked[pids[3]], want) {
		t.Errorf("third blocked by %v, want %v", blocked[pids[3]], want)
	}
	if len(doc.Roots) != 1 || doc.Roots[0].PID != pids[1] || doc.Roots[0].HoldsUp != 2 {
		t.Errorf("roots %+v, want the holder %d holding up 2", doc.Roots, pids[1])
	}
	if h := doc.XminHolder; h == nil || h.Kind != "session" || h.ID != strconv.Itoa(pids[0]) || h.AgeSeconds == nil {
		t.Errorf("xmin holder %+v, want session %d", h, pids[0])
	}
	if doc.Progress == nil {
		t.Error("progress is null, want a list")
	}

	text := runCmd(context.Background(), "", "activity", "--dsn", dsn)
	if text.code != 0 || !strings.Contains(text.stdout, strconv.Itoa(pids[1])+" ROOT (holds up 2)") ||
		strings.Count(text.stdout, "└ "+strconv.Itoa(pids[3])) != 2 || !strings.Contains(text.stdout, "IDLE IN TRANSACTION") {
		t.Errorf("text output (exit %d) lacks the root, the third under both blockers or the idle session:\n%s%s", text.code, text.stdout, text.stderr)
	}
}
