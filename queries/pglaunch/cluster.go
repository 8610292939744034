package pglaunch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// SuperUser is the role initdb creates in a launched cluster. It is not
// named like hmperf's schema: the default search_path starts with "$user",
// and a role called hmperf would resolve (and create) unqualified names in
// hmperf's own schema.
const SuperUser = "hmperf_admin"

// socketPort names the server's socket file (.s.PGSQL.5432). The server
// listens on no TCP address, so the number only has to be unique within the
// cluster's own socket directory.
const socketPort = 5432

// dirPrefix names every cluster directory, so that leftovers of a killed
// process can be found and swept.
const dirPrefix = "hmperf-pg-"

// ErrUnsupportedPlatform is returned by Start where the embedded server
// cannot run: on systems without unix sockets (windows).
var ErrUnsupportedPlatform = errors.New("the embedded PostgreSQL is not supported on " + runtime.GOOS +
	" (it serves a private unix socket only): connect to a PostgreSQL server with --dsn, DATABASE_URL or the PG* variables")

// Options configures Start.
type Options struct {
	// BaseDir holds the cluster directory; os.TempDir() when empty.
	BaseDir string
	// BinDir holds initdb and postgres; found with BinDir when empty.
	BinDir string
	// Find locates installed server binaries; FindBinDir when nil. Tests
	// replace it to hide the machine's own installation.
	Find func() (string, error)
	// Fetch configures the download made when Find finds no binaries.
	Fetch FetchOptions
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
	owner    *credential
	settings map[string]string

	stopOnce sync.Once
	stopErr  error
}

// Start initialises a new cluster in a fresh temporary directory and starts a
// server that listens on a unix socket only, in a directory of mode 0700: no
// TCP address, so no other local user can reach it (the socket's directory
// and the cluster's are closed to everyone but their owner). When the process
// runs as root, initdb and the server run as the `postgres` user (or
// `nobody`), because PostgreSQL refuses to run as root; root still reaches
// the socket, other users still do not. On a platform without unix sockets
// (windows) it returns ErrUnsupportedPlatform.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if err := supported(); err != nil {
		return nil, err
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 60 * time.Second
	}
	// A first fetch can take longer than a start: it is bounded by ctx only.
	binDir := opts.BinDir
	if binDir == "" {
		var err error
		if binDir, err = BinDir(ctx, opts); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()
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

func (c *Cluster) start(ctx context.Context, binDir string, owner *credential, settings map[string]string) error {
	if err := os.Mkdir(c.sockDir, 0o700); err != nil {
		return err
	}
	// Mkdir's mode is filtered by the umask, which can only remove bits;
	// set it anyway so the directory's privacy does not depend on it.
	for _, d := range []string{c.dir, c.sockDir} {
		if err := os.Chmod(d, 0o700); err != nil {
			return err
		}
	}
	if err := chownAll(owner, c.dir, c.sockDir); err != nil {
		return err
	}
	if err := c.initdb(ctx, binDir, owner); err != nil {
		return err
	}
	c.port = socketPort
	if err := c.launch(binDir, owner, settings); err != nil {
		return err
	}
	return c.waitReady(ctx)
}

// initdb creates the data directory. Socket connections are trusted: only
// the owner of the socket's directory can reach the socket. TCP connections
// are rejected, should a setting ever make the server listen on one.
func (c *Cluster) initdb(ctx context.Context, binDir string, owner *credential) error {
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "initdb"),
		"-D", c.DataDir(), "-U", SuperUser, "--auth-local=trust", "--auth-host=reject", "-E", "UTF8",
		"--locale=C", "--no-sync", "--no-instructions")
	cmd.SysProcAttr = sysProcAttr(owner, false)
	cmd.Dir = c.dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("initdb in %s failed: %v: %s", c.dir, err, lastLine(out.String()))
	}
	return nil
}

// launch starts postgres itself (not pg_ctl) as a child, in its own process
// group so a terminal's ^C reaches hmperf only, and (on Linux) with a
// parent-death signal so that a killed hmperf does not leave a server
// behind. The server listens on its private socket only; settings cannot
// change that.
func (c *Cluster) launch(binDir string, owner *credential, settings map[string]string) error {
	args := []string{"-D", c.DataDir(), "-p", strconv.Itoa(c.port), "-c", "fsync=off", "-c", "full_page_writes=off",
		"-c", "max_connections=100", "-c", "logging_collector=off"}
	for k, v := range statStatements(binDir, settings) {
		args = append(args, "-c", k+"="+v)
	}
	for k, v := range settings {
		args = append(args, "-c", k+"="+v)
	}
	args = append(args, "-c", "listen_addresses=", "-c", "unix_socket_directories="+c.sockDir,
		"-c", "unix_socket_permissions=0700")
	logFile, err := os.OpenFile(c.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close()
	cmd := exec.Command(filepath.Join(binDir, "postgres"), args...)
	cmd.Dir = c.dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = sysProcAttr(owner, true)
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
// on the same socket and data directory, and waits until it accepts
// connections (at most a minute).
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
		conn, err := c.connect(ctx)
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

// Port is the port number in the name of the server's socket file; the
// server listens on no TCP port.
func (c *Cluster) Port() int { return c.port }

// PID is the postmaster's process id, or 0 before launch.
func (c *Cluster) PID() int {
	if c.cmd == nil || c.cmd.Process == nil {
		return 0
	}
	return c.cmd.Process.Pid
}

// SocketDir is the directory of the server's unix socket, mode 0700.
func (c *Cluster) SocketDir() string { return c.sockDir }

// DSN returns a keyword/value connection string for database dbname over the
// private unix socket. It holds no password: the socket's directory is what
// keeps other users out.
func (c *Cluster) DSN(dbname string) string {
	return fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=disable", quoteValue(c.sockDir), c.port, SuperUser, quoteValue(dbname))
}

// launcherApp labels the launcher's own connections (readiness, replica
// catch-up) in pg_stat_activity, as every connection of hmperf is labelled.
const launcherApp = "hmperf launcher"

// connect opens a connection to c's postgres database as the launcher.
func (c *Cluster) connect(ctx context.Context) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(c.DSN("postgres"))
	if err != nil {
		return nil, err
	}
	cfg.RuntimeParams["application_name"] = launcherApp
	return pgx.ConnectConfig(ctx, cfg)
}

// quoteValue quotes a keyword/value connection-string value when it needs it.
func quoteValue(v string) string {
	if v != "" && !strings.ContainsAny(v, " '\\") {
		return v
	}
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
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
		sig  os.Signal
		wait time.Duration
	}{{fastShutdown, 10 * time.Second}, {immediateShutdown, 5 * time.Second}, {os.Kill, 5 * time.Second}} {
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
