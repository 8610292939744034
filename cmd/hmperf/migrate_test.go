package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/migrations"
	"hmperf/queries/pgtest"
)

func TestMigrateStatusEmbeddedJSON(t *testing.T) {
	tmp := privateTempDir(t)
	r := runBin(t, cleanEnv("TMPDIR="+tmp), "", "migrate", "status", "--json")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr: %s", r.code, r.stderr)
	}
	var st migrations.Status
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, r.stdout)
	}
	files, err := migrations.List(migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	if st.HasVersion || st.Dirty || st.Pending != len(files) || len(st.Migrations) != len(files) {
		t.Errorf("fresh embedded database: got %+v, want no version and %d pending", st, len(files))
	}
	assertNothingLeft(t, tmp)
}

func TestEmbeddedStopsOnSIGTERM(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			tmp := privateTempDir(t)
			cmd := exec.Command(binPath, "local")
			cmd.Env = cleanEnv("TMPDIR=" + tmp)
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			line, err := bufio.NewReader(stdout).ReadString('\n')
			if err != nil || !strings.Contains(line, "host=") {
				cmd.Process.Kill()
				t.Fatalf("no connection string printed: %q, %v", line, err)
			}
			// The printed string must work for the user who ran hmperf.
			if conn, err := pgx.Connect(context.Background(), strings.TrimSpace(line)); err != nil {
				t.Errorf("connect with the printed string %q: %v", line, err)
			} else {
				conn.Close(context.Background())
			}
			if len(processesMentioning(t, tmp)) == 0 {
				t.Error("no server process found while hmperf local runs")
			}
			_ = cmd.Process.Signal(sig)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("hmperf local after %s: %v", sig, err)
				}
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("hmperf local did not exit after %s", sig)
			}
			assertNothingLeft(t, tmp)
		})
	}
}

func TestNoServerBinariesOneSentence(t *testing.T) {
	r := runBin(t, cleanEnv("HMPERF_PG_BINDIR="+t.TempDir()), "", "migrate", "status")
	if r.code == 0 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 1 {
		// Two lines: the notice that an embedded server is starting, then the error.
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	last := r.stderr[strings.LastIndex(strings.TrimSpace(r.stderr), "\n")+1:]
	for _, want := range []string{"install PostgreSQL", "--dsn"} {
		if !strings.Contains(last, want) {
			t.Errorf("error line %q does not say %q", last, want)
		}
	}
}

func TestClosedPortFailsFastWithoutPassword(t *testing.T) {
	const secret = "s3cr3t-Pa55"
	for _, dsn := range []string{
		"postgres://alice:" + secret + "@127.0.0.1:1/health?sslmode=disable",
		"host=127.0.0.1 port=1 user=alice password=" + secret + " dbname=health sslmode=disable",
	} {
		r := runBin(t, cleanEnv(), "", "migrate", "status", "--dsn", dsn, "--connect-timeout", "3s")
		if r.code == 0 {
			t.Errorf("exit 0 for a closed port")
		}
		if r.elapsed > 3*time.Second+2*time.Second {
			t.Errorf("took %s, beyond the 3 s connect timeout", r.elapsed)
		}
		out := r.stdout + r.stderr
		if strings.Contains(out, secret) {
			t.Errorf("password printed: %s", out)
		}
		if lines := strings.Count(strings.TrimSpace(r.stderr), "\n") + 1; lines != 1 || !strings.Contains(r.stderr, "127.0.0.1") {
			t.Errorf("want one line naming the server, got %d lines: %s", lines, r.stderr)
		}
	}
}

func TestBadDSNDoesNotEchoPassword(t *testing.T) {
	const secret = "hunter2-xyz"
	r := runCmd(context.Background(), "", "migrate", "status", "--dsn", "postgres://bob:"+secret+"@host:notaport/db")
	if r.code == 0 || strings.Contains(r.stdout+r.stderr, secret) {
		t.Errorf("exit %d, output %q", r.code, r.stdout+r.stderr)
	}
}

// TestStatusWritesNothing: status on an empty database must not create
// golang-migrate's version table, with or without --read-only.
func TestStatusWritesNothing(t *testing.T) {
	dsn := pgtest.NewDB(t)
	for _, extra := range [][]string{nil, {"--read-only"}} {
		args := append([]string{"migrate", "status", "--json", "--dsn", dsn}, extra...)
		if r := runCmd(context.Background(), "", args...); r.code != 0 {
			t.Fatalf("%v: exit %d, %s", args, r.code, r.stderr)
		}
		var exists bool
		queryRow(t, dsn, "SELECT to_regclass('hmperf.schema_migrations') IS NOT NULL", &exists)
		if exists {
			t.Fatalf("%v created schema_migrations", args)
		}
	}
}

func TestMigrateNeedsConfirmation(t *testing.T) {
	dsn := pgtest.NewDB(t)
	ctx := context.Background()
	r := runCmd(ctx, "", "migrate", "up", "--dsn", dsn)
	if r.code == 0 || !strings.Contains(r.stderr, "--yes") {
		t.Fatalf("up without terminal or --yes: exit %d, %s", r.code, r.stderr)
	}
	if v := schemaVersion(t, dsn); v != -1 {
		t.Fatalf("refused up changed the schema to version %d", v)
	}
	if r := runCmd(ctx, "", "migrate", "up", "--dsn", dsn, "--read-only", "--yes"); r.code == 0 {
		t.Fatal("up with --read-only succeeded")
	}
	if r := runCmd(ctx, "", "migrate", "up", "--yes", "--dsn", dsn); r.code != 0 {
		t.Fatalf("up --yes: exit %d, %s", r.code, r.stderr)
	}
	files, _ := migrations.List(migrations.FS)
	last := int(files[len(files)-1].Version)
	if v := schemaVersion(t, dsn); v != last {
		t.Fatalf("after up: version %d, want %d", v, last)
	}
	if r := runCmd(ctx, "", "migrate", "down", "--yes", "--dsn", dsn); r.code != 0 {
		t.Fatalf("down (one step): exit %d, %s", r.code, r.stderr)
	}
	if v := schemaVersion(t, dsn); v != int(files[len(files)-2].Version) {
		t.Fatalf("after down: version %d", v)
	}
	if r := runCmd(ctx, "", "migrate", "down", "2", "--yes", "--dsn", dsn); r.code != 0 {
		t.Fatalf("down 2: exit %d, %s", r.code, r.stderr)
	}
	if v := schemaVersion(t, dsn); v != int(files[len(files)-4].Version) {
		t.Fatalf("after down 2: version %d, want %d", v, files[len(files)-4].Version)
	}
	if r := runCmd(ctx, "", "migrate", "goto", "1", "--yes", "--dsn", dsn); r.code != 0 {
		t.Fatalf("goto 1: exit %d, %s", r.code, r.stderr)
	}
	if r := runCmd(ctx, "", "migrate", "down", "--all", "--yes", "--dsn", dsn); r.code != 0 {
		t.Fatalf("down --all: exit %d, %s", r.code, r.stderr)
	}
	if v := schemaVersion(t, dsn); v != -1 {
		t.Fatalf("after down --all: version %d", v)
	}
}

func TestDirtyStatusAndForce(t *testing.T) {
	dsn := pgtest.NewMigratedDB(t)
	ctx := context.Background()
	files, _ := migrations.List(migrations.FS)
	last := files[len(files)-1].Version
	dbExec(t, dsn, "UPDATE hmperf.schema_migrations SET dirty = true")
	r := runCmd(ctx, "", "migrate", "status", "--dsn", dsn)
	// The last migration is in place (it was applied before the flag was
	// set by hand): the catalogue says so, and the advice keeps it.
	wantAdvice := "hmperf migrate force " + strconv.Itoa(int(last))
	if r.code != 1 || !strings.Contains(r.stdout, "DIRTY") || !strings.Contains(r.stdout, wantAdvice) {
		t.Fatalf("status of a dirty database: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runCmd(ctx, "", "migrate", "up", "--yes", "--dsn", dsn); r.code == 0 || !strings.Contains(r.stderr, "dirty") {
		t.Fatalf("up on a dirty database: exit %d, %s", r.code, r.stderr)
	}
	if r := runCmd(ctx, "", "migrate", "force", strconv.Itoa(int(last)), "--yes", "--dsn", dsn); r.code != 0 {
		t.Fatalf("force: exit %d, %s", r.code, r.stderr)
	}
	r = runCmd(ctx, "", "migrate", "status", "--json", "--dsn", dsn)
	var st migrations.Status
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || st.Dirty || st.Version != last || st.Pending != 0 {
		t.Fatalf("after force: %+v, %v", st, err)
	}
}

func schemaVersion(t *testing.T, dsn string) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass('hmperf.schema_migrations') IS NOT NULL").Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if !exists {
		return -1
	}
	var v int64
	err = conn.QueryRow(ctx, "SELECT version FROM hmperf.schema_migrations").Scan(&v)
	if err == pgx.ErrNoRows {
		return -1
	}
	if err != nil {
		t.Fatal(err)
	}
	return int(v)
}
