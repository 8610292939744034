package pglaunch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// primarySettings make a server one that streaming replicas can follow.
// They are PostgreSQL's defaults since version 10, set anyway so that a
// server whose configuration file says otherwise still streams.
var primarySettings = map[string]string{"wal_level": "replica", "max_wal_senders": "10", "max_replication_slots": "10"}

// Set is a primary and its streaming replicas, each a Cluster of its own
// with its own data directory and private socket. Stop it to stop and
// remove them all.
type Set struct {
	Primary  *Cluster
	Replicas []*Cluster
}

// ReplicaName is the name of the i-th replica (from 1) of a Set: its
// cluster_name, the application_name it streams as and the name of the
// replication slot the primary keeps for it.
func ReplicaName(i int) string { return "replica_" + strconv.Itoa(i) }

// StartSet starts a primary as Start does, configured for streaming
// replication, and n replicas of it made with pg_basebackup -R. Every
// server keeps Start's security model: a unix socket only, in a directory
// only its owner can enter, run as `postgres` (or `nobody`) under root.
func StartSet(ctx context.Context, opts Options, n int) (*Set, error) {
	if n < 0 {
		return nil, fmt.Errorf("pglaunch: %d replicas requested", n)
	}
	settings := maps.Clone(primarySettings)
	maps.Copy(settings, opts.Settings)
	opts.Settings = settings
	p, err := Start(ctx, opts)
	if err != nil {
		return nil, err
	}
	s := &Set{Primary: p}
	for i := 1; i <= n; i++ {
		r, err := StartReplica(ctx, p, ReplicaName(i))
		if err != nil {
			_ = s.Stop()
			return nil, err
		}
		s.Replicas = append(s.Replicas, r)
	}
	return s, nil
}

// Stop stops and removes every server of the set, replicas first so that
// none of them spends its last seconds reconnecting to a primary that is
// gone. It is safe to call more than once.
func (s *Set) Stop() error {
	var errs []error
	for _, r := range slices.Backward(s.Replicas) {
		errs = append(errs, r.Stop())
	}
	errs = append(errs, s.Primary.Stop())
	return errors.Join(errs...)
}

// All lists the set's servers, primary first.
func (s *Set) All() []*Cluster { return append([]*Cluster{s.Primary}, s.Replicas...) }

// WaitStreaming waits until the primary reports every replica of the set as
// streaming (in pg_stat_replication), at most until ctx ends.
func (s *Set) WaitStreaming(ctx context.Context) error {
	names := make([]string, len(s.Replicas))
	for i, r := range s.Replicas {
		names[i] = r.Name()
	}
	return WaitStreaming(ctx, s.Primary, names...)
}

// WaitStreaming waits until primary reports a streaming standby for each of
// names, at most until ctx ends.
func WaitStreaming(ctx context.Context, primary *Cluster, names ...string) error {
	for {
		missing, err := notStreaming(ctx, primary, names)
		if err == nil && len(missing) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			if err == nil {
				err = fmt.Errorf("not streaming: %s", strings.Join(missing, ", "))
			}
			return fmt.Errorf("wait for replicas to stream: %w", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// WaitCaughtUp waits until every replica of the set has replayed all the
// WAL the primary had written when it was called, at most until ctx ends:
// what was committed on the primary before is then visible on every
// replica.
func (s *Set) WaitCaughtUp(ctx context.Context) error {
	conn, err := s.Primary.connect(ctx)
	if err != nil {
		return fmt.Errorf("wait for replicas to catch up: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var target string
	if err := conn.QueryRow(ctx, `SELECT pg_current_wal_lsn()::text`).Scan(&target); err != nil {
		return fmt.Errorf("wait for replicas to catch up: %w", err)
	}
	for _, r := range s.Replicas {
		if err := waitReplayed(ctx, r, target); err != nil {
			return fmt.Errorf("wait for %s to catch up: %w", r.Name(), err)
		}
	}
	return nil
}

// waitReplayed waits until replica r has replayed the WAL up to lsn.
func waitReplayed(ctx context.Context, r *Cluster, lsn string) error {
	for {
		var done bool
		conn, err := r.connect(ctx)
		if err == nil {
			err = conn.QueryRow(ctx, `SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false)`, lsn).Scan(&done)
			conn.Close(context.WithoutCancel(ctx))
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			if err == nil {
				err = ctx.Err()
			}
			return err
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func notStreaming(ctx context.Context, primary *Cluster, names []string) ([]string, error) {
	conn, err := primary.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var missing []string
	err = conn.QueryRow(ctx, `
		SELECT coalesce(array_agg(n ORDER BY n), '{}')
		  FROM unnest($1::text[]) AS n
		 WHERE NOT EXISTS (SELECT FROM pg_stat_replication r WHERE r.application_name = n AND r.state = 'streaming')`,
		names).Scan(&missing)
	return missing, err
}

// Name is the server's cluster_name: a replica's name in its Set, "" for a
// server started by Start.
func (c *Cluster) Name() string { return c.settings["cluster_name"] }

// StartReplica makes a new streaming replica of primary called name (a
// valid replication slot name: lower-case letters, digits, underscores):
// pg_basebackup -R copies the primary's data over its private socket and
// creates a physical replication slot, so that the primary keeps the WAL a
// stopped replica still needs; the replica then runs as a hot standby in a
// cluster directory of its own beside the primary's, with its own socket.
func StartReplica(ctx context.Context, primary *Cluster, name string) (*Cluster, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := ensureReplicationHBA(primary); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(filepath.Dir(primary.dir), dirPrefix)
	if err != nil {
		return nil, fmt.Errorf("create replica directory: %w", err)
	}
	settings := maps.Clone(primary.settings)
	if settings == nil {
		settings = map[string]string{}
	}
	settings["hot_standby"] = "on"
	settings["cluster_name"] = name
	r := &Cluster{dir: dir, sockDir: filepath.Join(dir, "sock"), logPath: filepath.Join(dir, "server.log"),
		binDir: primary.binDir, owner: primary.owner, settings: settings}
	if err := r.startReplica(ctx, primary, name); err != nil {
		_ = r.Stop()
		return nil, fmt.Errorf("start replica %s: %w", name, err)
	}
	return r, nil
}

func (r *Cluster) startReplica(ctx context.Context, primary *Cluster, name string) error {
	if err := os.Mkdir(r.sockDir, 0o700); err != nil {
		return err
	}
	for _, d := range []string{r.dir, r.sockDir} {
		if err := os.Chmod(d, 0o700); err != nil {
			return err
		}
	}
	if err := chownAll(r.owner, r.dir, r.sockDir); err != nil {
		return err
	}
	if err := r.baseBackup(ctx, primary, name); err != nil {
		return err
	}
	r.port = socketPort
	if err := r.launch(r.binDir, r.owner, r.settings); err != nil {
		return err
	}
	return r.waitReady(ctx)
}

// baseBackup copies the primary's data directory into the replica's and
// writes the standby configuration (-R: standby.signal and a
// primary_conninfo naming the primary's socket and the slot).
func (r *Cluster) baseBackup(ctx context.Context, primary *Cluster, slot string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(r.binDir, "pg_basebackup"),
		"-D", r.DataDir(), "-h", primary.sockDir, "-p", strconv.Itoa(primary.port), "-U", SuperUser,
		"-R", "-X", "stream", "-C", "-S", slot, "-c", "fast", "--no-sync", "-w")
	cmd.SysProcAttr = sysProcAttr(r.owner, false)
	cmd.Dir = r.dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("pg_basebackup into %s failed: %v: %s", r.dir, err, lastLine(out.String()))
	}
	return nil
}

// ensureReplicationHBA makes sure the primary accepts replication
// connections on its socket. initdb writes such a line with the local
// method (trust: the socket's directory is what keeps others out); it is
// added, and the configuration reloaded, should a server lack it.
func ensureReplicationHBA(primary *Cluster) error {
	path := filepath.Join(primary.DataDir(), "pg_hba.conf")
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read the primary's pg_hba.conf: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 4 && f[0] == "local" && f[1] == "replication" {
			return nil
		}
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("open the primary's pg_hba.conf: %w", err)
	}
	_, err = f.WriteString("\nlocal   replication     all                                     trust\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("add a replication line to the primary's pg_hba.conf: %w", err)
	}
	if primary.cmd == nil || primary.cmd.Process == nil {
		return nil
	}
	return primary.cmd.Process.Signal(reloadSignal)
}
