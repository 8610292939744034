package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"hmperf/internal/streamtest"
	"hmperf/queries/pgtest"
)

// rssLimitKB is the most resident memory `hmperf ingest --file` may take on
// any input (issue 16): measured peaks are in docs/measurements.md.
const rssLimitKB = 200 << 10

// TestIngestFileMemory streams inputs that once took 0.8 to 3.6 GB into
// `hmperf ingest --file -` on a migrated database, generated as they are
// written, and checks the child's peak RSS (its VmHWM) and that every
// record is accounted for.
func TestIngestFileMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 1.2 GB through hmperf ingest")
	}
	const mb = 1 << 20
	record := heartRate("2025-09-09T05:06:07Z", "72")
	unknown := `{"type":"Weather","celsius":21.5,"user_id":"` + testUser + `"}`
	// fat holds 660 KB in fields the decoder keeps: 5,000 of them, one
	// batch, would be 3.3 GB.
	fat := `{"type":"Symptom","user_id":"` + testUser + `","recorded_at":"2025-09-09T05:06:07Z","symptom_type":"headache",` +
		`"severity":"mild","notes":"` + strings.Repeat("n", 60<<10) + `","triggers":[` +
		strings.TrimSuffix(strings.Repeat(`"`+strings.Repeat("t", 60<<10)+`",`, 10), ",") + `]}`
	tests := []struct {
		name     string
		in       io.Reader
		received int64
	}{
		{"300 MB string", streamtest.Wrap(`{"data":{"metrics":[{"type":"HeartRate","notes":"`, streamtest.Repeat("x", 300*mb), `"},`+record+`]}}`), 2},
		{"300 MB whitespace", streamtest.Wrap(`{"data":`, streamtest.Repeat(" \n", 300*mb), `{"metrics":[`+record+`]}}`), 1},
		{"300 MB of one record repeated", streamtest.Wrap(`{"data":{"metrics":[`, streamtest.Records(record, ",", 2_000_000), record+`]}}`), 2_000_001},
		{"200 MB of fat records (1 inserted, the rest duplicates)", streamtest.Wrap(`{"data":{"metrics":[`, streamtest.Records(fat, ",", 300), fat+`]}}`), 301},
		{"3 M unknown records", streamtest.Wrap(`{"data":{"metrics":[`, streamtest.Records(unknown, ",", 3_000_000), unknown+`]}}`), 3_000_001},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dsn := pgtest.NewMigratedDB(t)
			cmd := exec.Command(binPath, "ingest", "--dsn", dsn, "--file", "-", "--json")
			cmd.Env = cleanEnv()
			cmd.Stdin = tt.in
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			peak := watchPeakRSS(cmd.Process.Pid)
			err := cmd.Wait()
			rss := peak()
			if err != nil {
				t.Fatalf("%v: %s", err, stderr.String())
			}
			var tot struct {
				Received    int64 `json:"received"`
				Inserted    int64 `json:"inserted"`
				Duplicates  int64 `json:"duplicates"`
				Rejected    int64 `json:"rejected"`
				Unsupported int64 `json:"unsupported"`
			}
			if err := json.Unmarshal(stdout.Bytes(), &tot); err != nil {
				t.Fatalf("%v: %s", err, stdout.String())
			}
			if tot.Received != tt.received || tot.Inserted+tot.Duplicates+tot.Rejected+tot.Unsupported != tot.Received {
				t.Errorf("totals %+v, want %d received, all accounted", tot, tt.received)
			}
			t.Logf("peak RSS %.1f MB; %+v", float64(rss)/1024, tot)
			if rss > rssLimitKB {
				t.Errorf("peak RSS %.1f MB, want under %d MB", float64(rss)/1024, rssLimitKB>>10)
			}
		})
	}
}

// watchPeakRSS polls the VmHWM (peak resident set, KiB) of process pid
// until the returned function is called, after the process has ended, and
// returns the highest value read. ru_maxrss cannot be used: os/exec starts
// the child with the parent's address space shared until exec, and Linux
// keeps that address space's peak in the child's ru_maxrss, so a large test
// process would be measured instead of hmperf. VmHWM belongs to the
// process's own address space after exec; polling every 5 ms misses at
// most the last few milliseconds of a run.
func watchPeakRSS(pid int) func() int64 {
	var (
		mu   sync.Mutex
		peak int64
		wg   sync.WaitGroup
	)
	stop := make(chan struct{})
	path := "/proc/" + strconv.Itoa(pid) + "/status"
	wg.Go(func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			if kb, ok := readHWM(path); ok {
				mu.Lock()
				peak = max(peak, kb)
				mu.Unlock()
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})
	return func() int64 {
		close(stop)
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}

// readHWM reads the VmHWM line of a /proc/<pid>/status file.
func readHWM(path string) (int64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb, err == nil
		}
	}
	return 0, false
}
