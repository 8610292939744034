//go:build linux

package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestDashboardOnReplicaSet runs `hmperf local --replicas 2` and the
// dashboard over its three servers in tmux. The Servers panel shows one
// primary and two replicas with their lag; a replica killed with SIGKILL
// turns STALE and then DOWN within two refresh intervals, while
// `hmperf alerts` over the three exits 2 or 3; restarted, it is up again
// and alerts exit 0 or 1. The primary killed, the header says UNKNOWN and
// the replicas' lag grows; restarted, the set is up again.
func TestDashboardOnReplicaSet(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatalf("tmux is needed for the end-to-end test (apt-get install tmux): %v", err)
	}
	tmp := privateTempDir(t)
	dsns := startLocalSet(t, tmp, 2)
	servers := filepath.Join(t.TempDir(), "servers.toml")
	var doc strings.Builder
	for i, name := range []string{"primary", "replica_1", "replica_2"} {
		fmt.Fprintf(&doc, "[[server]]\nname = %q\ndsn = %q\n\n", name, dsns[i])
	}
	if err := os.WriteFile(servers, []byte(doc.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	const interval = time.Second
	pane := startTmux(t, cleanEnv(), 160, 40, "sh", "-c", `"$0" "$@"; echo "hmperf exited with status $?"; exec sleep 600`,
		binPath, "--servers", servers, "--interval", interval.String())
	pane.send("8")
	// Both replicas with a lag in bytes and in seconds.
	replicaRow := func(name, state string) *regexp.Regexp {
		return regexp.MustCompile(name + `\s+replica\s+` + state + `\s+[\d.]+ k?B\s+[\d.]+s\s`)
	}
	pane.waitFor("one primary and two replicas with lag figures", 20*time.Second, func(s string) bool {
		return strings.Contains(s, "Servers  3 up, 0 stale, 0 down") && regexp.MustCompile(`▶ primary\s+primary\s+up\s`).MatchString(s) &&
			replicaRow("replica_1", "up").MatchString(s) && replicaRow("replica_2", "up").MatchString(s)
	}, "panic:", "hmperf exited")
	pane.waitText(5*time.Second, "[primary primary", "replica_1 replica", "replica_2 replica")

	restart := killServer(t, dsns[2])
	killed := time.Now()
	stale := pane.waitFor("replica_2 STALE", 2*interval+time.Second, func(s string) bool {
		return regexp.MustCompile(`replica_2\s+replica\s+STALE \d\d:\d\d:\d\d`).MatchString(s)
	}, "panic:", "hmperf exited")
	if !strings.Contains(stale, "replica_2 replica") || !strings.Contains(stale, "STALE") {
		t.Errorf("the header does not show replica_2 STALE:\n%s", stale)
	}
	// Two intervals, plus this test's measuring on a loaded machine.
	bound := 2*interval + time.Second
	pane.waitFor(fmt.Sprintf("replica_2 DOWN within %s of the kill", bound), bound-time.Since(killed), func(s string) bool {
		return regexp.MustCompile(`replica_2\s+replica\s+DOWN \d\d:\d\d:\d\d`).MatchString(s) &&
			strings.Contains(s, "2 up, 0 stale, 1 down")
	}, "panic:", "hmperf exited")
	t.Logf("replica_2 showed DOWN %s after the kill", time.Since(killed).Round(time.Millisecond))
	if r := runBin(t, cleanEnv(), "", "alerts", "--servers", servers); r.code != 2 && r.code != 3 {
		t.Errorf("alerts with replica_2 down: exit %d, want 2 or 3:\n%s", r.code, r.stdout)
	}

	restart()
	pane.waitFor("replica_2 up again", 20*time.Second, func(s string) bool {
		return strings.Contains(s, "3 up, 0 stale, 0 down") && replicaRow("replica_2", "up").MatchString(s)
	}, "panic:", "hmperf exited")
	if r := runBin(t, cleanEnv(), "", "alerts", "--servers", servers); r.code != 0 && r.code != 1 {
		t.Errorf("alerts with replica_2 back: exit %d, want 0 or 1:\n%s", r.code, r.stdout)
	}

	// The primary killed: UNKNOWN in the header, and the replicas' lag in
	// seconds (the age of their last replayed commit) grows.
	restartPrimary := killServer(t, dsns[0])
	lagOf := regexp.MustCompile(`replica_1\s+replica\s+up\s+\S+ k?B\s+([\d.]+)s\s`)
	first := 0.0
	pane.waitFor("the primary DOWN, alerts UNKNOWN and replica_1's lag growing", 20*time.Second, func(s string) bool {
		m := lagOf.FindStringSubmatch(s)
		if m == nil || !regexp.MustCompile(`primary\s+primary\s+DOWN `).MatchString(s) || !strings.Contains(s, "alerts UNKNOWN: 1 of 3 servers") {
			return false
		}
		lag, _ := strconv.ParseFloat(m[1], 64)
		if first == 0 {
			first = lag
		}
		return first > 0 && lag >= first+1
	}, "panic:", "hmperf exited")
	restartPrimary()
	pane.waitFor("the primary up again", 20*time.Second, func(s string) bool {
		return strings.Contains(s, "3 up, 0 stale, 0 down") && strings.Contains(s, "no alerts firing")
	}, "panic:", "hmperf exited")

	pane.send("q")
	pane.waitText(10*time.Second, "hmperf exited with status 0")
}

// startLocalSet runs `hmperf local --replicas n` with TMPDIR tmp and returns
// its connection strings, primary first. At cleanup it sends SIGTERM and
// checks that nothing of the set is left.
func startLocalSet(t *testing.T, tmp string, n int) []string {
	t.Helper()
	cmd := exec.Command(binPath, "local", "--replicas", strconv.Itoa(n))
	cmd.Env = cleanEnv("TMPDIR=" + tmp)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("hmperf local after SIGTERM: %v", err)
			}
		case <-time.After(time.Minute):
			_ = cmd.Process.Kill()
			t.Error("hmperf local did not exit within a minute of SIGTERM")
		}
		assertNothingLeft(t, tmp)
	})
	lines := make(chan []string, 1)
	go func() {
		out := bufio.NewReader(stdout)
		var got []string
		for range n + 1 {
			line, err := out.ReadString('\n')
			if err != nil {
				break
			}
			got = append(got, strings.TrimSpace(line))
		}
		lines <- got
	}()
	select {
	case got := <-lines:
		if len(got) != n+1 {
			t.Fatalf("hmperf local --replicas %d printed %d connection strings, want %d", n, len(got), n+1)
		}
		return got
	case <-time.After(2 * time.Minute):
		t.Fatal("hmperf local did not print its connection strings within two minutes")
	}
	return nil
}

// killServer kills the postmaster of the server at dsn with SIGKILL, as a
// crash or an OOM kill would, and returns the function that starts it
// again with its own command line (postmaster.opts) and waits until it
// accepts connections. The restarted server belongs to this test, which
// stops it at cleanup, before `hmperf local` removes its directory.
func killServer(t *testing.T, dsn string) (restart func()) {
	t.Helper()
	dataDir := strings.TrimSpace(queryValue(t, dsn, "SHOW data_directory"))
	pidText, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.SplitN(string(pidText), "\n", 2)[0])
	if err != nil {
		t.Fatalf("postmaster.pid: %v", err)
	}
	opts, err := os.ReadFile(filepath.Join(dataDir, "postmaster.opts"))
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill postmaster %d: %v", pid, err)
	}
	return func() {
		t.Helper()
		argv := postmasterArgs(string(opts))
		var info syscall.Stat_t
		if err := syscall.Stat(dataDir, &info); err != nil {
			t.Fatal(err)
		}
		// The old server's children leave when they notice their
		// postmaster is gone; until then its shared memory is in use and
		// a new postmaster refuses to start. Try until one stays up.
		deadline := time.Now().Add(30 * time.Second)
		for {
			cmd := exec.Command(argv[0], argv[1:]...)
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGQUIT}
			if os.Getuid() == 0 {
				cmd.SysProcAttr.Credential = &syscall.Credential{Uid: info.Uid, Gid: info.Gid}
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan struct{})
			go func() { _ = cmd.Wait(); close(exited) }()
			if waitAccepting(dsn, exited) {
				t.Cleanup(func() {
					_ = cmd.Process.Signal(syscall.SIGINT) // fast shutdown
					select {
					case <-exited:
					case <-time.After(20 * time.Second):
						_ = cmd.Process.Kill()
						<-exited
					}
				})
				return
			}
			if time.Now().After(deadline) {
				t.Fatal("the killed server did not start again within 30 s")
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
}

// waitAccepting waits until dsn accepts a connection (true) or the server
// process exits (false).
func waitAccepting(dsn string, exited <-chan struct{}) bool {
	for {
		if _, err := inRecovery(dsn); err == nil {
			return true
		}
		select {
		case <-exited:
			return false
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// postmasterArgs splits postmaster.opts: the program, then each argument
// in double quotes.
func postmasterArgs(opts string) []string {
	prog, rest, _ := strings.Cut(strings.TrimSpace(opts), " ")
	args := []string{prog}
	for _, m := range regexp.MustCompile(`"((?:[^"\\]|\\.)*)"`).FindAllStringSubmatch(rest, -1) {
		args = append(args, m[1])
	}
	return args
}

func queryValue(t *testing.T, dsn, query string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var v string
	if err := conn.QueryRow(ctx, query).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}
