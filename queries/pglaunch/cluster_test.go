package pglaunch_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"

	"hmperf/queries/pglaunch"
)

func TestStartServeStop(t *testing.T) {
	// The default base (the system temp dir) is one the server user can
	// reach when tests run as root; t.TempDir() is private to root.
	c, err := pglaunch.Start(context.Background(), pglaunch.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		c.Stop()
		t.Fatal(err)
	}
	var one int
	if err := conn.QueryRow(ctx, "select 1").Scan(&one); err != nil || one != 1 {
		t.Errorf("select 1 = %d, %v", one, err)
	}
	conn.Close(ctx)
	pid := c.PID()
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, 0); err == nil {
		t.Errorf("postmaster %d still alive after Stop", pid)
	}
	if _, err := os.Stat(c.Dir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cluster directory %s still exists: %v", c.Dir(), err)
	}
}

func TestNoBinaries(t *testing.T) {
	_, err := pglaunch.Start(context.Background(), pglaunch.Options{BaseDir: t.TempDir(), BinDir: t.TempDir() + "/missing"})
	if err == nil {
		t.Fatal("Start with a missing bin dir succeeded")
	}
}

func TestFindBinDirPinned(t *testing.T) {
	t.Setenv("HMPERF_PG_BINDIR", t.TempDir())
	_, err := pglaunch.FindBinDir()
	if !errors.Is(err, pglaunch.ErrNoBinaries) {
		t.Fatalf("a pinned directory without binaries: %v, want ErrNoBinaries", err)
	}
	for _, want := range []string{"install PostgreSQL", "--dsn"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// TestStopServerStartServer takes the server away and brings it back: the
// data and the address survive, the process is a new one, and Stop still
// removes everything.
func TestStopServerStartServer(t *testing.T) {
	ctx := context.Background()
	c, err := pglaunch.Start(ctx, pglaunch.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	exec := func(sql string) error {
		conn, err := pgx.Connect(ctx, c.DSN("postgres"))
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := exec("CREATE TABLE kept (i int); INSERT INTO kept VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	pid, port := c.PID(), c.Port()
	if err := c.StopServer(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, 0); err == nil {
		t.Errorf("postmaster %d still alive after StopServer", pid)
	}
	if err := exec("SELECT 1"); err == nil {
		t.Error("a connection succeeded while the server was stopped")
	}
	if _, err := os.Stat(c.DataDir()); err != nil {
		t.Fatalf("StopServer removed the data directory: %v", err)
	}
	if err := c.StartServer(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.StartServer(ctx); err == nil {
		t.Error("StartServer on a running server succeeded")
	}
	if c.Port() != port || c.PID() == pid || c.PID() == 0 {
		t.Errorf("after StartServer: port %d (was %d), pid %d (was %d)", c.Port(), port, c.PID(), pid)
	}
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	var v int
	err = conn.QueryRow(ctx, "SELECT i FROM kept").Scan(&v)
	conn.Close(ctx)
	if err != nil || v != 42 {
		t.Errorf("data after a restart: %d, %v", v, err)
	}
	newPID := c.PID()
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(newPID, 0); err == nil {
		t.Errorf("restarted postmaster %d still alive after Stop", newPID)
	}
	if _, err := os.Stat(c.Dir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cluster directory %s still exists: %v", c.Dir(), err)
	}
}
