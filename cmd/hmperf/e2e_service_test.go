package main

import (
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// serviceMetricTables are the service's metric tables, and users, whose
// live row counts a sample ingest on its database must leave alone.
var serviceMetricTables = []string{"users", "heart_rate_metrics", "blood_pressure_metrics", "sleep_metrics", "workouts",
	"activity_metrics_v2", "nutrition_metrics", "symptoms"}

// TestDashboardOnServiceDatabase runs the built binary in tmux on the
// service's database (the project's fixture) after `hmperf migrate adopt`:
// a plain INSERT ... SELECT of 5,000 rows by another client shows on the
// Constraints panel within two poll intervals, i says it writes to the
// sandbox and does (the live tables keep their row counts while the
// sandbox fills), and q quits cleanly.
func TestDashboardOnServiceDatabase(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatalf("tmux is needed for the end-to-end test (apt-get install tmux): %v", err)
	}
	dsn := serviceDB(t)
	if r := runBin(t, cleanEnv(), "", "migrate", "adopt", "--yes", "--dsn", dsn); r.code != 0 {
		t.Fatalf("migrate adopt: exit %d: %s", r.code, r.stderr)
	}
	const interval = time.Second
	pane := startTmux(t, cleanEnv(), 160, 48, "sh", "-c", `"$0" "$@"; echo "hmperf exited with status $?"; exec sleep 600`,
		binPath, "--dsn", dsn, "--interval", interval.String())
	pane.waitText(20*time.Second, "[1:Overview]", "every 1s")

	// The Constraints panel's first poll takes the baseline sample; the
	// service's insert comes after it.
	pane.send("2")
	pane.waitText(10*time.Second, "[2:Constraints]", "Throughput rows/s (wall time) per table, hourly")
	waitSampled(t, dsn)
	serviceWrite(t, dsn, 5000)
	written := time.Now()
	// The row of the service's rows: 5,000 of the service's rows, a
	// throughput, hmperf's own timings n/a and its rows 0, none rolled back,
	// the refusals n/a.
	row := regexp.MustCompile(`activity_metrics_v2\s+\d\d-\d\d \d\d:\d\d\s+5,000\s+[\d.,]+\s+(n/a|[\d.,]+)\s+–\s+n/a\s+n/a\s+n/a\s+0\s+0\s+n/a`)
	// Two poll intervals, plus this test's measuring on a loaded machine
	// (captures every 150 ms, the render).
	bound := 2*interval + time.Second
	pane.waitFor(fmt.Sprintf("the service's 5,000 rows within %s", bound), bound, func(s string) bool {
		return row.MatchString(s)
	}, "panic:", "ERROR")
	t.Logf("the service's insert showed %s after it committed", time.Since(written).Round(time.Millisecond))

	before := liveCounts(t, dsn)
	if before["activity_metrics_v2"] != 5000 {
		t.Fatalf("live counts before the ingest: %v", before)
	}
	pane.send("6")
	pane.waitText(10*time.Second, "[6:Ingest]", "i writes generated rows to the sandbox hmperf_sandbox (live tables untouched)")
	pane.send("i")
	pane.waitText(10*time.Second, "Start a sample ingest, writing generated rows to the sandbox", "hmperf_sandbox (live tables untouched)?")
	pane.send("y")
	inserted := regexp.MustCompile(`inserted\s+([\d,]+) of ([\d,]+) received`)
	pane.waitFor("ingested batches", 30*time.Second, func(s string) bool {
		m := inserted.FindStringSubmatch(s)
		return strings.Contains(s, "sample ingest RUNNING") && m != nil && m[1] != "0" &&
			strings.Contains(s, "writing generated rows to the sandbox hmperf_sandbox (live tables untouched)")
	}, "sample ingest start failed", "STOPPED on an error", "panic:")
	if after := liveCounts(t, dsn); !mapsEqual(after, before) {
		t.Errorf("live row counts changed during the sample ingest: before %v, after %v", before, after)
	}
	for _, name := range []string{"heart_rate_metrics", "activity_metrics_v2", "symptoms"} {
		if n := rowCount(t, dsn, pgx.Identifier{"hmperf_sandbox", name}.Sanitize()); n == 0 {
			t.Errorf("hmperf_sandbox.%s is empty during the sample ingest", name)
		}
	}

	// q asks while the ingest runs; y stops it and quits.
	pane.send("q")
	pane.waitText(10*time.Second, "Quit anyway?")
	pane.send("y")
	exited := pane.waitFor("hmperf to exit", 15*time.Second, func(s string) bool {
		return strings.Contains(s, "hmperf exited with status")
	})
	if !strings.Contains(exited, "hmperf exited with status 0") || strings.Contains(exited, "panic") || strings.Contains(exited, "hmperf: ") {
		t.Errorf("hmperf did not exit cleanly:\n%s", exited)
	}
	if after := liveCounts(t, dsn); !mapsEqual(after, before) {
		t.Errorf("live row counts changed by the dashboard: before %v, after %v", before, after)
	}
}

// waitSampled waits until some process has sampled the service's writes
// (the dashboard's first Constraints poll records the baseline).
func waitSampled(t *testing.T, dsn string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		var sampled *time.Time
		queryRow(t, dsn, `SELECT sampled_at FROM hmperf.write_sampler`, &sampled)
		if sampled != nil {
			return
		}
	}
	t.Fatal("the dashboard took no baseline sample of the service's writes")
}

// liveCounts is the row count of each of the service's tables in public.
func liveCounts(t *testing.T, dsn string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, name := range serviceMetricTables {
		out[name] = rowCount(t, dsn, pgx.Identifier{"public", name}.Sanitize())
	}
	return out
}

func mapsEqual(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
