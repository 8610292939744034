package pglaunch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// SuperUser is the role initdb creates in a launched cluster. It is not
// named like hmperf's schema: the default search_path starts with "$user",
// and a role called hmperf would resolve (and create) unqualified names in
// hmperf's own schema.
const SuperUser = "hmperf_admin"

// dirPrefix names every cluster directory, so that leftovers of a killed
// process can be found and swept.
const dirPrefix = "hmperf-pg-"

// Options configures Start.
type Options struct {
	// BaseDir holds the cluster directory; os.TempDir() when empty.
	BaseDir string
	// BinDir holds initdb and postgres; found with FindBinDir when empty.
	BinDir string
	// Settings are extra server settings (name → value), passed as -c flags.
	Settings map[string]string
	// StartTimeout bounds initdb plus server start; 60 s when zero.
	StartTimeout time.Duration
}

// Cluster is a running throwaway PostgreSQL server. Stop it to remove its
// process and its directory.
type Cluster struct {
	dir     string
	sockDir string
	port    int
	cmd     *exec.Cmd
	exited  chan struct{} // closed when the server process of cmd has exited
	logPath string

	// What launch needs, kept for StartServer.
	binDir   string
	owner    *syscall.Credential
	settings map[string]string

	stopOnce sync.Once
	stopErr  error
}

// Start initialises a new cluster in a fresh temporary directory and starts a
// server on a free TCP port of 127.0.0.1 and a private unix socket. When the
// process runs as root, initdb and the server run as the `postgres` user (or
// `nobody`), because PostgreSQL refuses to run as root.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()
	binDir := opts.BinDir
	if binDir == "" {
		var err error
		if binDir, err = FindBinDir(); err != nil {
			return nil, err
		}
	}
	base := opts.BaseDir
	if base == "" {
		base = os.TempDir()
	}
	SweepStale(base)
	owner, err := serverOwner()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(base, dirPrefix)
	if err != nil {
		return nil, fmt.Errorf("create cluster directory: %w", err)
	}
	c := &Cluster{dir: dir, sockDir: filepath.Join(dir, "sock"), logPath: filepath.Join(dir, "server.log"),
		binDir: binDir, owner: owner, settings: opts.Settings}
	if err := c.start(ctx, binDir, owner, opts.Settings); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) start(ctx context.Context, binDir string, owner *syscall.Credential, settings map[string]string) error {
	if err := os.Mkdir(c.sockDir, 0o700); err != nil {
		return err
	}
	if err := chownAll(owner, c.dir, c.sockDir); err != nil {
		return err
	}
	if err := c.initdb(ctx, binDir, owner); err != nil {
		return err
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	c.port = port
	if err := c.launch(binDir, owner, settings); err != nil {
		return err
	}
	return c.waitReady(ctx)
}

func (c *Cluster) initdb(ctx context.Context, binDir string, owner *syscall.Credential) error {
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "initdb"),
		"-D", c.DataDir(), "-U", SuperUser, "-A", "trust", "-E", "UTF8",
		"--locale=C", "--no-sync", "--no-instructions")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: owner, Setpgid: true}
	cmd.Dir = c.dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("initdb in %s failed: %v: %s", c.dir, err, lastLine(out.String()))
	}
	return nil
}

// launch starts postgres itself (not pg_ctl) as a child, in its own process
// group so a terminal's ^C reaches hmperf only, and with a parent-death
// signal so that a killed hmperf does not leave a server behind.
func (c *Cluster) launch(binDir string, owner *syscall.Credential, settings map[string]string) error {
	args := []string{"-D", c.DataDir(), "-p", strconv.Itoa(c.port), "-k", c.sockDir,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "full_page_writes=off",
		"-c", "max_connections=100", "-c", "logging_collector=off"}
	for k, v := range statStatements(binDir, settings) {
		args = append(args, "-c", k+"="+v)
	}
	for k, v := range settings {
		args = append(args, "-c", k+"="+v)
	}
	logFile, err := os.OpenFile(c.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close()
	cmd := exec.Command(filepath.Join(binDir, "postgres"), args...)
	cmd.Dir = c.dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: owner, Setpgid: true, Pdeathsig: syscall.SIGQUIT}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	exited := make(chan struct{})
	c.cmd, c.exited = cmd, exited
	go func() { _ = cmd.Wait(); close(exited) }()
	return nil
}

// statStatements returns the settings that load pg_stat_statements, so that
// hmperf can see every client's INSERT and COPY statements with their
// execution time: preloaded (it needs shared memory at start-up), tracking
// nested statements too (the service may write from functions). It returns
// nothing when the library is not installed beside the server (the server
// would refuse to start) or when settings choose the preloaded libraries.
func statStatements(binDir string, settings map[string]string) map[string]string {
	if _, set := settings["shared_preload_libraries"]; set {
		return nil
	}
	for _, dir := range []string{filepath.Join(binDir, "..", "lib"), filepath.Join(binDir, "..", "lib", "postgresql"), pkgLibDir(binDir)} {
		if dir == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, "pg_stat_statements.so")); err == nil {
			return map[string]string{"shared_preload_libraries": "pg_stat_statements", "pg_stat_statements.track": "all"}
		}
	}
	return nil
}

// pkgLibDir asks the pg_config beside the server for its library directory,
// "" when there is none.
func pkgLibDir(binDir string) string {
	out, err := exec.Command(filepath.Join(binDir, "pg_config"), "--pkglibdir").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// StopServer shuts the server down as Stop does but keeps the cluster's
// directory, so that StartServer can bring the same data back on the same
// port and socket: how a test makes its database go away for a while.
// Stop still has to be called.
func (c *Cluster) StopServer() error {
	err := c.stopServer()
	// SweepStale (run by every Start) removes directories older than a
	// minute whose postmaster is gone, which this one now is: make it young
	// again. A stop longer than a minute can still lose it.
	now := time.Now()
	_ = os.Chtimes(c.dir, now, now)
	return err
}

// StartServer starts the server of a cluster stopped with StopServer again,
// on the same port, socket and data directory, and waits until it accepts
// connections (at most a minute). It fails if the port was taken meanwhile.
func (c *Cluster) StartServer(ctx context.Context) error {
	if c.cmd != nil {
		select {
		case <-c.exited:
		default:
			return errors.New("pglaunch: the server is already running")
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := c.launch(c.binDir, c.owner, c.settings); err != nil {
		return err
	}
	return c.waitReady(ctx)
}

func (c *Cluster) waitReady(ctx context.Context) error {
	for {
		conn, err := pgx.Connect(ctx, c.DSN("postgres"))
		if err == nil {
			conn.Close(ctx)
			return nil
		}
		select {
		case <-c.exited:
			return fmt.Errorf("postgres exited during start-up: %s", c.logTail())
		case <-ctx.Done():
			return fmt.Errorf("postgres did not accept connections in time: %s", c.logTail())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// DataDir is the cluster's data directory.
func (c *Cluster) DataDir() string { return filepath.Join(c.dir, "data") }

// Dir is the cluster's top directory, removed by Stop.
func (c *Cluster) Dir() string { return c.dir }

// Port is the server's TCP port on 127.0.0.1.
func (c *Cluster) Port() int { return c.port }

// PID is the postmaster's process id, or 0 before launch.
func (c *Cluster) PID() int {
	if c.cmd == nil || c.cmd.Process == nil {
		return 0
	}
	return c.cmd.Process.Pid
}

// DSN returns a keyword/value connection string for database dbname over the
// private unix socket.
func (c *Cluster) DSN(dbname string) string {
	return fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=disable", c.sockDir, c.port, SuperUser, dbname)
}

// Stop shuts the server down (fast shutdown, then immediate, then kill) and
// removes the cluster directory. It is safe to call more than once.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() {
		c.stopErr = c.stopServer()
		if err := os.RemoveAll(c.dir); err != nil && c.stopErr == nil {
			c.stopErr = err
		}
	})
	return c.stopErr
}

func (c *Cluster) stopServer() error {
	if c.cmd == nil || c.cmd.Process == nil {
		return nil
	}
	for _, step := range []struct {
		sig  syscall.Signal
		wait time.Duration
	}{{syscall.SIGINT, 10 * time.Second}, {syscall.SIGQUIT, 5 * time.Second}, {syscall.SIGKILL, 5 * time.Second}} {
		_ = c.cmd.Process.Signal(step.sig)
		select {
		case <-c.exited:
			return nil
		case <-time.After(step.wait):
		}
	}
	return errors.New("postgres did not exit after SIGKILL")
}

func (c *Cluster) logTail() string {
	b, _ := os.ReadFile(c.logPath)
	return lastLine(string(b))
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// serverOwner returns the credential the server must run as: nil (the
// current user) unless we are root.
func serverOwner() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, errors.New("running as root, but neither a `postgres` nor a `nobody` user exists to run PostgreSQL as")
}

func chownAll(owner *syscall.Credential, paths ...string) error {
	if owner == nil {
		return nil
	}
	for _, p := range paths {
		if err := os.Chown(p, int(owner.Uid), int(owner.Gid)); err != nil {
			return fmt.Errorf("hand %s to the server user: %w", p, err)
		}
	}
	return nil
}
