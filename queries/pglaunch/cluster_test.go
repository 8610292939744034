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
