package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"hmperf/queries/pgtest"
	"hmperf/tui/recording"
)

// TestRecordedDashboard: the built dashboard, in tmux, records while the
// service inserts rows; killed with SIGKILL, it leaves a recording that
// report reads, counting those rows. The DSN carries a password, which
// appears nowhere in the file, compressed or not.
func TestRecordedDashboard(t *testing.T) {
	const password = "pw-never-recorded-7f3a"
	dsn := pgtest.NewMigratedDB(t) + " password=" + password
	rec := filepath.Join(privateTempDir(t), "session.hmrec")
	pane := startTmux(t, cleanEnv(), 120, 32, binPath, "--dsn", dsn, "--record", rec, "--interval", "500ms")
	pid, err := strconv.Atoi(pane.display("#{pane_pid}"))
	if err != nil {
		t.Fatal(err)
	}
	pane.waitText(30*time.Second, "[1:Overview]")
	waitRecords(t, rec, 3)
	serviceWrite(t, dsn, 3000)
	before := countRecords(t, rec)
	waitRecords(t, rec, before+4)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); syscall.Kill(pid, 0) == nil && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}

	r := runCmd(context.Background(), "", "report", rec, "--json")
	if r.code != 0 {
		t.Fatalf("report exit %d: %s", r.code, r.stderr)
	}
	var doc struct {
		From, To time.Time
		Samples  int `json:"samples"`
		Tables   []struct {
			Name string  `json:"table_name"`
			Rows int64   `json:"observed_rows"`
			Peak float64 `json:"peak_rows_per_sec"`
		} `json:"tables"`
		Alerts []json.RawMessage `json:"alerts"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	var rows int64
	var peak float64
	for _, tb := range doc.Tables {
		if tb.Name == "activity_metrics_v2" {
			rows, peak = tb.Rows, tb.Peak
		}
	}
	if rows != 3000 || peak <= 0 || doc.Samples < 7 || doc.Alerts == nil {
		t.Errorf("report: activity_metrics_v2 %d rows (want the 3000 inserted), peak %.0f/s, %d samples:\n%s", rows, peak, doc.Samples, r.stdout)
	}

	raw, err := os.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	_, records, _, err := recording.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := json.Marshal(records)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(password)) || bytes.Contains(plain, []byte(password)) {
		t.Error("the recording holds the DSN's password")
	}
	if !strings.Contains(string(plain), `"activity"`) || !strings.Contains(string(plain), `"servers"`) {
		t.Error("the recording lacks the activity or the servers")
	}

	// The recording replays: the same panels, REPLAY and the recorded
	// time in the header, a write key refused with the reason.
	// The replay plays the few seconds recorded in real time and stops at
	// the last record, which it shows paused: waiting for that frame does
	// not race the start-up of tmux and the binary.
	replay := startTmux(t, cleanEnv(), 120, 32, binPath, "replay", rec)
	last := records[len(records)-1].At.UTC().Format("2006-01-02 15:04:05")
	end := fmt.Sprintf("record %d/%d", len(records), len(records))
	replay.waitText(30*time.Second, "REPLAY "+last+" UTC", "PAUSED", end, "[1:Overview]", "Ingest rate")
	replay.send("9")
	replay.waitText(10*time.Second, "[9:Activity]", "root blockers")
	replay.send("7")
	replay.waitText(10*time.Second, "[7:Migrations]")
	replay.send("u")
	replay.waitText(10*time.Second, "replay: writes are disabled")
	replay.send("q")
}

func countRecords(t *testing.T, path string) int {
	t.Helper()
	_, recs, _, err := recording.ReadFile(path)
	if err != nil {
		return 0
	}
	return len(recs)
}

func waitRecords(t *testing.T, path string, n int) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); countRecords(t, path) < n; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s has %d records after 30 s, want %d", path, countRecords(t, path), n)
		}
	}
}
