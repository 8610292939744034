package lockwait_test

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"hmperf/queries/lockwait"
	"hmperf/queries/pgtest"
)

func TestMain(m *testing.M) { pgtest.MainNoLeaks(m) }

// fixture is a database with one table, a pool whose sessions run under a
// short lock_timeout, and a way to lock the table from another session.
type fixture struct {
	dsn  string
	pool *pgxpool.Pool
}

func setup(t *testing.T) fixture {
	t.Helper()
	dsn := pgtest.NewDB(t)
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["lock_timeout"] = "200"
	cfg.ConnConfig.RuntimeParams["application_name"] = "hmperf test"
	cfg.MaxConns = 3
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := pool.Exec(context.Background(), "CREATE TABLE watched (id int)"); err != nil {
		t.Fatal(err)
	}
	return fixture{dsn: dsn, pool: pool}
}

// lock holds ACCESS EXCLUSIVE on the table for d from a session labelled
// "blocker", and returns its pid.
func (f fixture) lock(t *testing.T, d time.Duration) uint32 {
	t.Helper()
	ctx := context.Background()
	cfg, err := pgx.ParseConfig(f.dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["application_name"] = "blocker"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "LOCK TABLE watched IN ACCESS EXCLUSIVE MODE"); err != nil {
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

func readWatched(ctx context.Context, tx pgx.Tx) error {
	var n int
	return tx.QueryRow(ctx, "SELECT count(*) FROM watched").Scan(&n)
}

// TestInTxRetriesUntilTheBlockerEnds: the step's lock wait times out while
// the blocker holds the table, each retry line names it, and the step
// succeeds once it is gone.
func TestInTxRetriesUntilTheBlockerEnds(t *testing.T) {
	t.Parallel()
	f := setup(t)
	pid := f.lock(t, 1500*time.Millisecond)
	var log bytes.Buffer
	p := lockwait.Policy{Budget: 10 * time.Second, First: 100 * time.Millisecond, Max: 200 * time.Millisecond, Log: &log}
	start := time.Now()
	if err := p.InTx(context.Background(), "read watched", f.pool, readWatched); err != nil {
		t.Fatalf("InTx: %v", err)
	}
	if took := time.Since(start); took < time.Second {
		t.Errorf("InTx took %s: it never waited for the blocker", took)
	}
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	if len(lines) < 2 {
		t.Fatalf("want several retry lines, got:\n%s", log.String())
	}
	want := "pid " + strconv.Itoa(int(pid)) + ` (user `
	for _, l := range lines {
		if !strings.Contains(l, want) || !strings.Contains(l, `application "blocker"`) || !strings.Contains(l, "LOCK TABLE watched") {
			t.Errorf("retry line does not name the blocker %d: %s", pid, l)
		}
	}
}

// TestInTxGivesUpNamingTheBlocker: a budget shorter than the block ends in
// an ExhaustedError that names the blocker.
func TestInTxGivesUpNamingTheBlocker(t *testing.T) {
	t.Parallel()
	f := setup(t)
	pid := f.lock(t, 3*time.Second)
	p := lockwait.Policy{Budget: 700 * time.Millisecond, First: 100 * time.Millisecond}
	err := p.InTx(context.Background(), "read watched", f.pool, readWatched)
	var ex *lockwait.ExhaustedError
	if !errors.As(err, &ex) {
		t.Fatalf("InTx = %v, want an ExhaustedError", err)
	}
	if len(ex.Blockers) != 1 || ex.Blockers[0].PID != int32(pid) || ex.Blockers[0].App != "blocker" {
		t.Errorf("blockers %+v, want pid %d of application blocker", ex.Blockers, pid)
	}
	if ex.Attempts < 2 {
		t.Errorf("%d attempts within 700 ms of 200 ms lock waits", ex.Attempts)
	}
}

// TestAppWatchNamesTheBlocker: a step that opens its own transaction is
// watched through its application_name.
func TestAppWatchNamesTheBlocker(t *testing.T) {
	t.Parallel()
	f := setup(t)
	pid := f.lock(t, 3*time.Second)
	p := lockwait.Policy{Budget: 500 * time.Millisecond}
	err := p.Run(context.Background(), "read watched", lockwait.AppWatch(f.pool), func(ctx context.Context) error {
		_, err := f.pool.Exec(ctx, "SELECT count(*) FROM watched")
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "pid "+strconv.Itoa(int(pid))+" ") {
		t.Fatalf("Run = %v, want an error naming pid %d", err, pid)
	}
	if lockwait.AppWatch(struct{}{}) != nil {
		t.Error("AppWatch of something that is not a pool watches anyway")
	}
}

// TestRunStopsOnCancel: Ctrl-C ends the wait between attempts at once.
func TestRunStopsOnCancel(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.lock(t, 3*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
	defer cancel()
	p := lockwait.Policy{Budget: time.Minute, First: 2 * time.Second}
	start := time.Now()
	err := p.InTx(ctx, "read watched", f.pool, readWatched)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("InTx = %v, want the context's error", err)
	}
	if took := time.Since(start); took > 1500*time.Millisecond {
		t.Errorf("cancelled wait returned after %s", took)
	}
}
