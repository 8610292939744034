package pglaunch

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

func TestAliveBySignalZero(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{nil, true},
		{syscall.EPERM, true},
		{syscall.ESRCH, false},
		{fmt.Errorf("kill: %w", syscall.EPERM), true},
	} {
		if got := aliveBySignalZero(c.err); got != c.want {
			t.Errorf("aliveBySignalZero(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// staleDir makes a cluster directory under base, older than SweepStale's
// minute, whose postmaster.pid names pid.
func staleDir(t *testing.T, base string, pid int) string {
	t.Helper()
	dir := filepath.Join(base, dirPrefix+strconv.Itoa(pid))
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "data", "postmaster.pid"), []byte(strconv.Itoa(pid)+"\n/data\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(dir, old, old); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestSweepStaleKeepsLiveServers(t *testing.T) {
	base := t.TempDir()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Skip("no `true` to make a dead pid with")
	}
	gone := staleDir(t, base, dead.Process.Pid)
	live := staleDir(t, base, os.Getpid())
	SweepStale(base)
	if _, err := os.Stat(gone); !os.IsNotExist(err) {
		t.Errorf("directory of a dead server kept: %v", err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("directory of a live server removed: %v", err)
	}
}

// sweepHelperEnv makes the test binary run SweepStale on the directory it
// names and exit: how TestSweepStaleOtherUsersServer sweeps as another user.
const sweepHelperEnv = "HMPERF_SWEEP_HELPER_BASE"

func TestMain(m *testing.M) {
	if base := os.Getenv(sweepHelperEnv); base != "" {
		SweepStale(base)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestSweepStaleOtherUsersServer sweeps, as an unprivileged user, a
// directory whose server belongs to root (this test process): kill(pid, 0)
// answers EPERM there, and the directory must be kept.
func TestSweepStaleOtherUsersServer(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("sweeping as another OS user needs root; aliveBySignalZero's EPERM case is checked by TestAliveBySignalZero")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// A world-readable copy of the test binary in a directory the other
	// user can enter and write (it could remove what it judges stale).
	base, err := os.MkdirTemp("", "hmperf-sweep-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(base)
	if err := os.Chmod(base, 0o777); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(base, "sweep.test")
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	clusters := filepath.Join(base, "clusters")
	if err := os.Mkdir(clusters, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(clusters, 0o777); err != nil { // past the umask
		t.Fatal(err)
	}
	live := staleDir(t, clusters, os.Getpid())
	const other = 65534
	for _, p := range []string{live, filepath.Join(live, "data"), filepath.Join(live, "data", "postmaster.pid")} {
		if err := os.Chown(p, other, other); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-time.Hour)
	_ = os.Chtimes(live, old, old)
	cmd := exec.Command(bin, "-test.run=^$")
	cmd.Env = []string{sweepHelperEnv + "=" + clusters}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: other, Gid: other}}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sweep as uid %d: %v: %s", other, err, out)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("a sweep by another user removed the directory of a live server owned by root: %v", err)
	}
}
