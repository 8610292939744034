package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hmperf/tui/recording"
)

// TestStartRecording: --record FILE that cannot be written fails the
// dashboard; the default file that cannot be written only says so;
// --no-record records nothing; a recording started writes records until
// stopped.
func TestStartRecording(t *testing.T) {
	p, err := recording.NewPlayer(recording.Header{}, []recording.Record{{At: time.Now(), Server: "s"}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	blocker := filepath.Join(dir, "a-file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var stderr bytes.Buffer
	if _, err := startRecording(ctx, recordFlags{path: filepath.Join(blocker, "x.hmrec"), maxMB: 1}, p, time.Second, &stderr); err == nil {
		t.Error("--record under a file started")
	}
	t.Setenv("XDG_STATE_HOME", blocker)
	stop, err := startRecording(ctx, recordFlags{maxMB: 1}, p, time.Second, &stderr)
	if err != nil || !strings.Contains(stderr.String(), "not recording this session") {
		t.Errorf("default path under a file: %v, stderr %q", err, stderr.String())
	}
	stop()
	t.Setenv("XDG_STATE_HOME", dir)
	stop, err = startRecording(ctx, recordFlags{off: true, maxMB: 1}, p, time.Second, &stderr)
	stop()
	if _, statErr := os.Stat(filepath.Join(dir, "hmperf")); err != nil || statErr == nil {
		t.Errorf("--no-record: %v, and the state directory was made (%v)", err, statErr)
	}
	stop, err = startRecording(ctx, recordFlags{maxMB: 1}, p, 500*time.Millisecond, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1200 * time.Millisecond)
	stop()
	_, recs, torn, err := recording.ReadFile(filepath.Join(dir, "hmperf", "dashboard.hmrec"))
	if err != nil || torn || len(recs) < 2 {
		t.Errorf("default recording: %d records, torn %v, %v", len(recs), torn, err)
	}
}
