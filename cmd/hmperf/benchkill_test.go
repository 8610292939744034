package main

import (
	"context"
	"encoding/json"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"hmperf/cmd/internal/benchout"
	"hmperf/queries/bench"
)

// TestKilledBenchIsSweptAndInterrupted is issue 16's check on the service's
// database, adopted: a committed benchmark killed with SIGKILL once its
// scratch copies exist leaves them; the history reads the run as
// interrupted; the next committed run drops them and stores the run so; and
// after a second kill `migrate down --all` drops the leftover copies first
// and succeeds, clean.
func TestKilledBenchIsSweptAndInterrupted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := serviceDB(t)
	adopt(t, dsn)

	killed := killBenchMidRun(t, dsn)
	hist := historyJSON(t, dsn)
	if len(hist.Runs) == 0 || hist.Runs[0].ID != killed || hist.Runs[0].Status != bench.StatusInterrupted {
		t.Errorf("bench --history --json after the kill: %+v; want run %d first, interrupted", hist.Runs, killed)
	}
	if r := runCmd(ctx, "", "bench", "--history", "--read-only", "--dsn", dsn); r.code != 0 || !strings.Contains(r.stdout, "interrupted") {
		t.Errorf("bench --history after the kill: exit %d, want the run shown interrupted:\n%s%s", r.code, r.stdout, r.stderr)
	}
	r := runCmd(ctx, "", "bench", "--commit", "--table", "nutrition", "--rows", "200", "--reps", "1", "--yes", "--dsn", dsn)
	if r.code != 0 {
		t.Fatalf("the next committed run: exit %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"benchmark run " + strconv.FormatInt(killed, 10) + " is stored as interrupted",
		"dropped scratch schema hmperf_scratch_" + strconv.FormatInt(killed, 10)} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the next run's stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if n := scratchSchemas(t, dsn); n != 0 {
		t.Errorf("%d scratch schemas left after the next committed run", n)
	}
	var stored string
	queryRow(t, dsn, "SELECT status FROM hmperf.benchmark_runs WHERE id = "+strconv.FormatInt(killed, 10), &stored)
	if stored != bench.StatusInterrupted {
		t.Errorf("the killed run %d is stored as %q, want %q", killed, stored, bench.StatusInterrupted)
	}

	killBenchMidRun(t, dsn)
	r = runCmd(ctx, "", "migrate", "down", "--all", "--yes", "--dsn", dsn)
	if r.code != 0 {
		t.Fatalf("migrate down --all with a killed run's scratch copies: exit %d\n%s", r.code, r.stderr)
	}
	if n := scratchSchemas(t, dsn); n != 0 {
		t.Errorf("%d scratch schemas left after down --all", n)
	}
	if st := statusJSON(t, dsn); st.Dirty || st.HasVersion {
		t.Errorf("after down --all: %+v; want no version, not dirty", st)
	}
}

// killBenchMidRun starts a committed benchmark as a child process, kills it
// with SIGKILL once its scratch copies are committed, waits until the
// server has ended its sessions (so its locks are gone) and returns the
// run's id, which names the scratch schema left behind.
func killBenchMidRun(t *testing.T, dsn string) int64 {
	t.Helper()
	cmd := exec.Command(binPath, "bench", "--method", "service", "--table", "all", "--rows", "20000", "--reps", "5", "--yes", "--dsn", dsn)
	cmd.Env = cleanEnv()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var schema string
	for deadline := time.Now().Add(2 * time.Minute); schema == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		queryRow(t, dsn, `SELECT coalesce(max(nspname), '') FROM pg_namespace WHERE nspname LIKE 'hmperf\_scratch\_%'`, &schema)
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	if schema == "" {
		t.Fatal("the benchmark built no scratch copies within 2 minutes")
	}
	// The server ends a dead client's session when it next talks to it.
	var left int
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		queryRow(t, dsn, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'hmperf bench'`, &left)
		if left == 0 {
			break
		}
	}
	if left != 0 {
		t.Fatalf("%d sessions of the killed benchmark still open after a minute", left)
	}
	if n := scratchSchemas(t, dsn); n != 1 {
		t.Fatalf("%d scratch schemas after the kill; want the killed run's 1", n)
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(schema, "hmperf_scratch_"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// historyDoc is `bench --history --json`.
type historyDoc struct {
	Runs []benchout.HistoryRun `json:"runs"`
}

func historyJSON(t *testing.T, dsn string) historyDoc {
	t.Helper()
	r := runCmd(context.Background(), "", "bench", "--history", "--json", "--read-only", "--dsn", dsn)
	var doc historyDoc
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("bench --history --json: exit %d, %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	return doc
}

// TestConcurrentBenchesSerialize: beside a running benchmark (a child
// process), a second one with --lock-wait 0 is refused naming the first's
// run and process, and so is migrate down --all, before its first step; with the default wait it says whom it waits for, starts
// once the first ends (killed here) and stores the first as interrupted.
func TestConcurrentBenchesSerialize(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := serviceDB(t)
	adopt(t, dsn)
	cmd := exec.Command(binPath, "bench", "--method", "service", "--table", "all", "--rows", "20000", "--reps", "5", "--yes", "--dsn", dsn)
	cmd.Env = cleanEnv()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	var first int64
	for deadline := time.Now().Add(2 * time.Minute); first == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		queryRow(t, dsn, `SELECT coalesce(max(substr(nspname, 16)::bigint), 0) FROM pg_namespace WHERE nspname LIKE 'hmperf\_scratch\_%'`, &first)
	}
	holder := "benchmark run " + strconv.FormatInt(first, 10) + " (pid "
	args := []string{"bench", "--commit", "--table", "nutrition", "--rows", "200", "--reps", "1", "--yes", "--dsn", dsn}
	r := runCmd(ctx, "", append(args, "--lock-wait", "0")...)
	t.Logf("--lock-wait 0 beside run %d: %s", first, r.stderr)
	if r.code != 1 || !strings.Contains(r.stderr, "another benchmark is running: "+holder) || !strings.Contains(r.stderr, "hmperf bench)") {
		t.Errorf("beside run %d with --lock-wait 0: exit %d\n%s", first, r.code, r.stderr)
	}
	before := statusJSON(t, dsn)
	r = runCmd(ctx, "", "migrate", "down", "--all", "--yes", "--dsn", dsn)
	if r.code != 1 || !strings.Contains(r.stderr, "a benchmark is running (scratch schema hmperf_scratch_"+strconv.FormatInt(first, 10)) {
		t.Errorf("down --all beside a running benchmark: exit %d\n%s", r.code, r.stderr)
	}
	if after := statusJSON(t, dsn); after.Dirty || after.Version != before.Version {
		t.Errorf("down --all beside a running benchmark changed the schema: version %d dirty %v, was %d", after.Version, after.Dirty, before.Version)
	}
	done := make(chan result, 1)
	go func() { done <- runCmd(ctx, "", args...) }()
	time.Sleep(time.Second)
	_ = cmd.Process.Signal(syscall.SIGKILL)
	r = <-done
	t.Logf("the waiting run said: %s", r.stderr)
	if r.code != 0 {
		t.Fatalf("the waiting run: exit %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"waiting for " + holder, "stored as interrupted"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the waiting run's stderr lacks %q:\n%s", want, r.stderr)
		}
	}
}
