package pglaunch_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"

	"hmperf/queries/pglaunch"
)

// TestServerIsPrivate checks what keeps other local users out: no TCP
// address even when a setting asks for one, and a socket whose directory
// (and the cluster's) only its owner can enter.
func TestServerIsPrivate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, err := pglaunch.Start(ctx, pglaunch.Options{Settings: map[string]string{"listen_addresses": "*"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	var listen, perms string
	err = conn.QueryRow(ctx, "SELECT current_setting('listen_addresses'), current_setting('unix_socket_permissions')").Scan(&listen, &perms)
	conn.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if listen != "" || perms != "0700" {
		t.Errorf("listen_addresses %q, unix_socket_permissions %q; want '' and 0700", listen, perms)
	}
	for _, d := range []string{c.Dir(), c.SocketDir()} {
		st, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o700 {
			t.Errorf("%s has mode %v, want 0700", d, st.Mode().Perm())
		}
	}
	if strings.Contains(c.DSN("postgres"), "password") {
		t.Errorf("DSN %q carries a password", c.DSN("postgres"))
	}
}

// TestOtherUserCannotConnect runs psql as a user that is neither the caller
// nor the server's owner: it must be refused, while the same command run by
// the caller gets in (so the refusal is the socket's privacy, not a broken
// command).
func TestOtherUserCannotConnect(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("running a client as another OS user needs root; this run is not root (TestServerIsPrivate still checks the modes)")
	}
	psql := psqlPath(t)
	ctx := context.Background()
	c, err := pglaunch.Start(ctx, pglaunch.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	owner := fileOwner(t, c.Dir())
	// A uid needs no passwd entry to be run as: pick one that is not the
	// server's owner (postgres, or nobody when there is no postgres user).
	var other uint32 = 65534
	if other == owner {
		other = 65533
	}
	run := func(cred *syscall.Credential) (string, error) {
		cmd := exec.Command(psql, "-X", "-w", "-At", "-d", c.DSN("postgres"), "-c", "SELECT 'in'")
		cmd.Env = []string{"HOME=/", "PATH=/usr/bin:/bin"}
		cmd.Dir = "/"
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return strings.TrimSpace(out.String()), err
	}
	if out, err := run(nil); err != nil || out != "in" {
		t.Fatalf("psql as the caller: %q, %v", out, err)
	}
	out, err := run(&syscall.Credential{Uid: other, Gid: other})
	if err == nil {
		t.Fatalf("psql as uid %d connected: %q", other, out)
	}
	if !strings.Contains(out, "ermission denied") {
		t.Errorf("psql as uid %d failed, but not for want of permission: %q", other, out)
	}
}

func psqlPath(t *testing.T) string {
	t.Helper()
	if dir, err := pglaunch.FindBinDir(); err == nil {
		if p := filepath.Join(dir, "psql"); fileExists(p) {
			return p
		}
	}
	p, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("no psql to connect with as another user")
	}
	return p
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func fileOwner(t *testing.T, p string) uint32 {
	t.Helper()
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return st.Sys().(*syscall.Stat_t).Uid
}
