package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/queries/pgtest"
)

// binPath is the hmperf binary built once for the tests that run it as a
// child process (embedded mode, signals, exit codes).
var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hmperf-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "hmperf")
	// Dashboards the tests start record where the test run's files go,
	// not in the user's state directory.
	os.Setenv("XDG_STATE_HOME", filepath.Join(dir, "state"))
	if out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build hmperf: %v\n%s", err, out)
		os.Exit(1)
	}
	code := pgtest.Run(m)
	os.RemoveAll(dir)
	os.Exit(pgtest.NoLeaks(code))
}

// result is what a child hmperf did.
type result struct {
	code           int
	stdout, stderr string
	elapsed        time.Duration
}

// cleanEnv is the process environment without any database configuration,
// plus extra.
func cleanEnv(extra ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "PG") || name == "DATABASE_URL" || name == "HMPERF_TEST_DSN" {
			continue
		}
		out = append(out, kv)
	}
	return append(out, extra...)
}

func runBin(t *testing.T, env []string, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String(), elapsed: time.Since(start)}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run hmperf %v: %v", args, err)
	}
	return r
}

// runCmd runs a command in-process with a non-terminal stdin.
func runCmd(ctx context.Context, stdin string, args ...string) result {
	var stdout, stderr bytes.Buffer
	e := env{stdin: strings.NewReader(stdin), stdout: &stdout, stderr: &stderr, isTerminal: func() bool { return false }}
	code := run(ctx, e, args)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// privateTempDir is a TMPDIR for a child hmperf that the postgres user can
// enter (t.TempDir is root-only when tests run as root).
func privateTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "hmperf-tmp-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// processesMentioning lists the pids whose command line contains s.
func processesMentioning(t *testing.T, s string) []string {
	t.Helper()
	matches, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	var pids []string
	for _, m := range matches {
		b, err := os.ReadFile(m)
		if err == nil && bytes.Contains(b, []byte(s)) {
			pids = append(pids, filepath.Base(filepath.Dir(m)))
		}
	}
	return pids
}

func assertNothingLeft(t *testing.T, tmp string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(processesMentioning(t, tmp)) > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if pids := processesMentioning(t, tmp); len(pids) > 0 {
		t.Errorf("processes still running from %s: %v", tmp, pids)
	}
	entries, _ := os.ReadDir(tmp)
	for _, e := range entries {
		t.Errorf("left behind in TMPDIR: %s", e.Name())
	}
}

// dbExec runs one statement on its own connection to dsn.
func dbExec(tb testing.TB, dsn, sql string, args ...any) {
	tb.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
}

// queryRow scans the one row sql returns into dst.
func queryRow(tb testing.TB, dsn, sql string, dst ...any) {
	tb.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, sql).Scan(dst...); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
}
