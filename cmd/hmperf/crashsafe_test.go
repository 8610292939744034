package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/migrations"
	"hmperf/queries/pgtest"
)

// TestKilledMigrationsNeverDirty is issue 16's check on the service-like
// fixture: `migrate adopt` and `migrate down --all` killed with SIGKILL at
// several points (by time, and while a step waits on a lock the service
// holds) never leave the version dirty, and the same command run again ends
// with a schema byte-identical to an uninterrupted run.
func TestKilledMigrationsNeverDirty(t *testing.T) {
	t.Parallel()
	killedMigrations(t, serviceDB)
}

// TestKilledMigrationsNeverDirtyDump is the same on the service's real
// dump, where it is beside the project.
func TestKilledMigrationsNeverDirtyDump(t *testing.T) {
	t.Parallel()
	killedMigrations(t, dumpDBOrSkip)
}

// killPoints are the delays after which a command is killed; a point past
// the command's end kills nothing, and is said so in the log.
var killPoints = []time.Duration{100 * time.Millisecond, 300 * time.Millisecond, 500 * time.Millisecond, 800 * time.Millisecond}

func killedMigrations(t *testing.T, newDB func(*testing.T) string) {
	ctx := context.Background()
	ref := newDB(t)
	original := pgtest.SchemaDump(t, ref)
	if r := runCmd(ctx, "", "migrate", "adopt", "--yes", "--dsn", ref); r.code != 0 {
		t.Fatalf("uninterrupted adopt: exit %d\n%s", r.code, r.stderr)
	}
	adopted := pgtest.SchemaDump(t, ref)
	if r := runCmd(ctx, "", "migrate", "down", "--all", "--yes", "--dsn", ref); r.code != 0 {
		t.Fatalf("uninterrupted down --all: exit %d\n%s", r.code, r.stderr)
	}
	if removed := pgtest.SchemaDump(t, ref); removed != original {
		t.Fatal("an uninterrupted adopt and down --all do not give back the schema as found")
	}

	dsn := newDB(t)
	for _, d := range killPoints {
		killAndFinish(t, dsn, d, adopted, "migrate", "adopt", "--yes")
		killAndFinish(t, dsn, d, original, "migrate", "down", "--all", "--yes")
	}
	// Paused deterministically: killed while a step waits for the row
	// lock of the service's transaction on users, then the lock released
	// so the orphaned backend could go on, were it able to commit.
	killWhileBlocked(t, dsn, adopted, "migrate", "adopt", "--yes")
	killWhileBlocked(t, dsn, original, "migrate", "down", "--all", "--yes")
}

// killAndFinish starts hmperf with args on dsn, kills it after d, checks
// the version is clean, runs the same command to its end and compares the
// schema with want.
func killAndFinish(t *testing.T, dsn string, d time.Duration, want string, args ...string) {
	t.Helper()
	cmd := startBin(t, dsn, args...)
	time.Sleep(d)
	killed := cmd.Process.Signal(syscall.SIGKILL) == nil
	state := waitExit(cmd)
	t.Logf("%s killed after %s: %v (%s); then %s", strings.Join(args[:len(args)-1], " "), d, killed, state, versionState(t, dsn))
	finishAndCompare(t, dsn, want, args...)
}

// killWhileBlocked holds a row of users, starts hmperf with args (no lock
// timeout: it waits in the server), kills it once pg_stat_activity shows
// it waiting for a lock, releases the row, and finishes as killAndFinish.
func killWhileBlocked(t *testing.T, dsn, want string, args ...string) {
	t.Helper()
	release := holdUsersRowUntil(t, dsn)
	cmd := startBin(t, dsn, append(args, "--lock-timeout", "0")...)
	query := waitForLockWait(t, dsn)
	_ = cmd.Process.Signal(syscall.SIGKILL)
	waitExit(cmd)
	t.Logf("%s killed while waiting on %q: %s", strings.Join(args[:len(args)-1], " "), query, versionState(t, dsn))
	release()
	// The orphaned backend gets its lock now and finds no client: it must
	// roll back, not commit. Give it a moment, then look.
	time.Sleep(1500 * time.Millisecond)
	versionState(t, dsn)
	finishAndCompare(t, dsn, want, args...)
}

// finishAndCompare runs args to completion on dsn and compares the schema.
func finishAndCompare(t *testing.T, dsn, want string, args ...string) {
	t.Helper()
	r := runCmd(context.Background(), "", append(args, "--dsn", dsn)...)
	if r.code != 0 {
		t.Fatalf("%v run again: exit %d\n%s%s", args, r.code, r.stdout, r.stderr)
	}
	if got := pgtest.SchemaDump(t, dsn); got != want {
		t.Fatalf("%v run again after a kill: the schema differs from an uninterrupted run", args)
	}
}

// startBin starts the built hmperf with args on dsn.
func startBin(t *testing.T, dsn string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(binPath, append(args, "--dsn", dsn)...)
	cmd.Env = cleanEnv()
	cmd.Stdout, cmd.Stderr = new(bytes.Buffer), new(bytes.Buffer)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// waitExit waits for cmd and says how it ended.
func waitExit(cmd *exec.Cmd) string {
	err := cmd.Wait()
	if err == nil {
		return "it had finished"
	}
	return err.Error()
}

// versionState reads hmperf's version row as it is, failing the test if
// it is dirty.
func versionState(t *testing.T, dsn string) string {
	t.Helper()
	st := statusJSON(t, dsn)
	if st.Dirty || st.State == migrations.StateDirty {
		t.Fatalf("the version is dirty: %s; %s", st.Summary, st.Next)
	}
	return fmt.Sprintf("%s, version %s", st.State, migrations.VersionText(st))
}

// holdUsersRowUntil updates a row of users in a transaction left open
// until the returned function (also run at cleanup) rolls it back.
func holdUsersRowUntil(t *testing.T, dsn string) func() {
	t.Helper()
	ctx := context.Background()
	conn := serviceSession(t, dsn, blockerApp)
	if _, err := conn.Exec(ctx, "INSERT INTO users (email) VALUES ($1) ON CONFLICT DO NOTHING", "blocker@example.invalid"); err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "UPDATE users SET full_name = 'held' WHERE email = $1", "blocker@example.invalid"); err != nil {
		t.Fatal(err)
	}
	done := false
	release := func() {
		if !done {
			done = true
			_ = tx.Rollback(ctx)
			conn.Close(ctx)
		}
	}
	t.Cleanup(release)
	return release
}

// waitForLockWait waits until a session of hmperf's on dsn waits for a
// lock, and returns the first line of its statement.
func waitForLockWait(t *testing.T, dsn string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var q string
		err := conn.QueryRow(ctx, `SELECT query FROM pg_stat_activity
			 WHERE datname = current_database() AND application_name LIKE 'hmperf%' AND wait_event_type = 'Lock' LIMIT 1`).Scan(&q)
		if err == nil {
			return firstLineOf(q)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("hmperf never waited for the lock on users")
	return ""
}

func firstLineOf(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "--") {
			return l
		}
	}
	return ""
}

// TestCtrlCStopsAWaitingMigration: SIGINT while `migrate adopt` waits in
// the server for a row lock on users (no lock timeout, the wait is the
// server's) cancels the statement, rolls the step back and exits non-zero
// within a second or two with one line; no session of hmperf's is left
// waiting, and the version is clean. The same command then finishes.
func TestCtrlCStopsAWaitingMigration(t *testing.T) {
	t.Parallel()
	dsn := serviceDB(t)
	release := holdUsersRowUntil(t, dsn)
	cmd := startBin(t, dsn, "migrate", "adopt", "--yes", "--lock-timeout", "0")
	waitForLockWait(t, dsn)
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	state := waitExit(cmd)
	took := time.Since(start)
	stderr := strings.TrimSpace(cmd.Stderr.(*bytes.Buffer).String())
	t.Logf("exited %s after SIGINT (%s): %s", took.Round(time.Millisecond), state, stderr)
	if cmd.ProcessState.ExitCode() == 0 {
		t.Errorf("exit 0 after SIGINT")
	}
	if took > 3*time.Second {
		t.Errorf("took %s to stop after SIGINT", took)
	}
	if lines := strings.Split(stderr, "\n"); len(lines) != 1 || len(stderr) > 400 {
		t.Errorf("stderr is not one line:\n%s", stderr)
	}
	if n := waitingHmperfSessions(t, dsn); n != 0 {
		t.Errorf("%d session(s) of hmperf still wait for a lock after it exited", n)
	}
	if !strings.Contains(stderr, "interrupted") || !strings.Contains(stderr, "rolled back") {
		t.Errorf("stderr does not say the step was interrupted and rolled back: %s", stderr)
	}
	// The steps before the one that waits on users committed; that one
	// rolled back with its version.
	st := statusJSON(t, dsn)
	if st.Dirty || st.Version < migrations.BaseVersion || st.Pending == 0 {
		t.Errorf("after SIGINT: version %d dirty %v pending %d, want clean between the base and the latest", st.Version, st.Dirty, st.Pending)
	}
	release()
	if r := runCmd(context.Background(), "", "migrate", "adopt", "--yes", "--dsn", dsn); r.code != 0 {
		t.Fatalf("adopt again: exit %d\n%s", r.code, r.stderr)
	}
	if st := statusJSON(t, dsn); st.Dirty || st.Pending != 0 {
		t.Errorf("after adopt again: version %d dirty %v pending %d", st.Version, st.Dirty, st.Pending)
	}
}

func waitingHmperfSessions(t *testing.T, dsn string) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
		 WHERE datname = current_database() AND application_name LIKE 'hmperf%' AND wait_event_type = 'Lock'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestMigrationLock: a session holding hmperf's migration lock makes
// `migrate up` wait, each retry line naming it (pid, application), and,
// past --lock-wait, stop in one line with nothing changed; two migrates
// started together both succeed, one after the other, and end as one
// would have.
func TestMigrationLock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := pgtest.NewDB(t)
	holder := serviceSession(t, dsn, "other hmperf")
	if _, err := holder.Exec(ctx, "SELECT pg_advisory_lock($1::int, $2::int)", migrations.LockClass, migrations.LockObject); err != nil {
		t.Fatal(err)
	}
	pid := holder.PgConn().PID()
	r := runCmd(ctx, "", "migrate", "up", "--yes", "--lock-wait", "2s", "--dsn", dsn)
	assertHeldBy(t, "up", r, "migration lock", pid)
	if !strings.Contains(r.stderr, fmt.Sprintf("holder, pid %d, application \"other hmperf\", connected since ", pid)) {
		t.Errorf("up: the error does not say since when the holder is connected:\n%s", r.stderr)
	}
	if st := statusJSON(t, dsn); st.HasVersion || st.State != migrations.StateEmpty {
		t.Errorf("after the refusal: %s", st.Summary)
	}
	// Adopt's record takes the lock too.
	svc := serviceDB(t)
	other := serviceSession(t, svc, "other hmperf")
	if _, err := other.Exec(ctx, "SELECT pg_advisory_lock($1::int, $2::int)", migrations.LockClass, migrations.LockObject); err != nil {
		t.Fatal(err)
	}
	r = runCmd(ctx, "", "migrate", "adopt", "--yes", "--lock-wait", "2s", "--dsn", svc)
	assertHeldBy(t, "adopt", r, "record the adoption", other.PgConn().PID())
	if st := statusJSON(t, svc); st.State != migrations.StateForeign {
		t.Errorf("after the refused adopt: %s", st.Summary)
	}
	other.Close(ctx)
	holder.Close(ctx)

	results := make(chan result, 2)
	for i := 0; i < 2; i++ {
		go func() { results <- runCmd(ctx, "", "migrate", "up", "--yes", "--dsn", dsn) }()
	}
	for i := 0; i < 2; i++ {
		if r := <-results; r.code != 0 {
			t.Errorf("concurrent up: exit %d\n%s", r.code, r.stderr)
		}
	}
	if st := statusJSON(t, dsn); st.Dirty || st.Pending != 0 || st.State != migrations.StateHmperf {
		t.Fatalf("after two concurrent ups: %s (pending %d)", st.Summary, st.Pending)
	}
	if got, want := pgtest.SchemaDump(t, dsn), pgtest.SchemaDump(t, pgtest.NewMigratedDB(t)); got != want {
		t.Error("two concurrent ups end with a schema other than one up's")
	}
}

// assertHeldBy checks that r stopped with a last line saying it gave up on
// what, naming the session pid ("other hmperf").
func assertHeldBy(t *testing.T, cmd string, r result, what string, pid uint32) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	last := lines[len(lines)-1]
	t.Logf("%s while the lock was held: exit %d\n%s", cmd, r.code, r.stderr)
	if r.code == 0 {
		t.Fatalf("%s went ahead while another session held the migration lock", cmd)
	}
	for _, want := range []string{what, "gave up", fmt.Sprintf("pid %d", pid), `"other hmperf"`} {
		if !strings.Contains(last, want) {
			t.Errorf("%s: the error lacks %q: %s", cmd, want, last)
		}
	}
}
