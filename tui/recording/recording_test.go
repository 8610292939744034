package recording

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"syscall"
	"testing"
	"time"

	"hmperf/tui/source"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// sample is a record with data in most panels, distinct per i.
func sample(i int) Record {
	return Record{
		At:     t0.Add(time.Duration(i) * 2 * time.Second),
		Server: "hmperf@db:5432/health",
		Constraints: []source.ConstraintRow{
			{Table: "heart_rate_metrics", HourBucket: t0, Rows: int64(1000 * i), RowsPerSec: ptr(250.5)},
		},
		Alerts: []source.Alert{{Name: "lock_wait_warning", Severity: source.Warning, Table: "session 42 (service)",
			Observed: 31, Threshold: 30, FiringSince: t0, Message: "WARNING: lock wait"}},
		Servers: []source.Server{{Name: "primary", Role: "primary", Version: "15.18", Connections: 7 + i}},
		Activity: &source.Activity{At: t0, Sessions: []source.Session{
			{PID: 42, State: "active", WaitEventType: "Lock", BlockedBy: []int{41}, Query: "INSERT INTO t"},
			{PID: 41, State: "idle in transaction", Root: true, HoldsUp: 1, IdleInTransaction: true, XactAge: ptr(12.5)},
		}, Roots: []source.LockRoot{{PID: 41, HoldsUp: 1}}},
		Errors: map[string]string{"indexes": "timeout"},
	}
}

func header() Header {
	return Header{Started: t0, Hmperf: "test", Interval: 2 * time.Second, Servers: []string{"primary"}}
}

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec")
	w, err := Create(path, header(), 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	var want []Record
	for i := range 3 {
		want = append(want, sample(i))
		if err := w.Append(sample(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	h, got, torn, err := ReadFile(path)
	if err != nil || torn {
		t.Fatalf("read: %v, torn %v", err, torn)
	}
	if h.Version != Version || !h.Started.Equal(t0) || h.Interval != 2*time.Second {
		t.Errorf("header %+v", h)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("records\n%+v\nwant\n%+v", got, want)
	}
}

// TestTornTail cuts a file at every byte of its last frame: the reader
// returns the complete records before it and says the tail is torn, and a
// writer reopening the file cuts the tail and appends after them.
func TestTornTail(t *testing.T) {
	dir := t.TempDir()
	full := filepath.Join(dir, "full")
	w, err := Create(full, header(), 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := w.Append(sample(i)); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	data, err := os.ReadFile(full)
	if err != nil {
		t.Fatal(err)
	}
	_, one, _, _ := ReadFile(full)
	frame, _ := encode(sample(1))
	start := len(data) - len(frame)
	for cut := start + 1; cut < len(data); cut++ {
		path := filepath.Join(dir, "cut"+strconv.Itoa(cut))
		if err := os.WriteFile(path, data[:cut], 0o600); err != nil {
			t.Fatal(err)
		}
		_, got, torn, err := ReadFile(path)
		if err != nil || !torn || len(got) != 1 || !reflect.DeepEqual(got[0], one[0]) {
			t.Fatalf("cut at %d of %d: %d records, torn %v, err %v; want the first record and torn", cut, len(data), len(got), torn, err)
		}
		w, err := Create(path, header(), 0, -1)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Append(sample(2)); err != nil {
			t.Fatal(err)
		}
		w.Close()
		_, got, torn, err = ReadFile(path)
		if err != nil || torn || len(got) != 2 || got[1].Servers[0].Connections != sample(2).Servers[0].Connections {
			t.Fatalf("reopened after a cut at %d: %d records, torn %v, err %v; want 2 whole records", cut, len(got), torn, err)
		}
	}
}

// TestKilledWriter kills a process appending records with SIGKILL: the
// file it leaves is readable, with every record but at most a torn last one.
func TestKilledWriter(t *testing.T) {
	if path := os.Getenv("HMPERF_RECORDING_CHILD"); path != "" {
		w, err := Create(path, header(), 0, -1)
		if err != nil {
			os.Exit(3)
		}
		for i := 0; ; i++ {
			if err := w.Append(sample(i)); err != nil {
				os.Exit(4)
			}
		}
	}
	path := filepath.Join(t.TempDir(), "killed")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledWriter$")
	cmd.Env = append(os.Environ(), "HMPERF_RECORDING_CHILD="+path)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if st, err := os.Stat(path); err == nil && st.Size() > 100_000 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatal("the child never wrote 100 kB")
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, want killed by SIGKILL", err)
	}
	_, got, _, err := ReadFile(path)
	if err != nil || len(got) < 10 {
		t.Fatalf("after SIGKILL: %d records, %v", len(got), err)
	}
	for i, r := range got {
		if !reflect.DeepEqual(r, sample(i)) {
			t.Fatalf("record %d after SIGKILL differs from what was written", i)
		}
	}
}

func TestRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rec")
	frame, _ := encode(sample(0))
	maxBytes := int64(4 * len(frame))
	w, err := Create(path, header(), maxBytes, 2)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		if err := w.Append(sample(i)); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	var total int
	for _, name := range []string{"rec", "rec.1", "rec.2"} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() > maxBytes {
			t.Errorf("%s is %d bytes, over the cap %d", name, st.Size(), maxBytes)
		}
		_, recs, torn, err := ReadFile(filepath.Join(dir, name))
		if err != nil || torn || len(recs) == 0 {
			t.Errorf("%s: %d records, torn %v, %v", name, len(recs), torn, err)
		}
		total += len(recs)
	}
	if _, err := os.Stat(filepath.Join(dir, "rec.3")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("rec.3 exists (%v), want only 2 rotated files kept", err)
	}
	_, last, _, _ := ReadFile(path)
	if got := last[len(last)-1].At; !got.Equal(sample(39).At) {
		t.Errorf("the current file ends at %v, want the last record appended", got)
	}
	if total >= 40 {
		t.Errorf("%d records kept of 40 with a cap of 3 files of 4 records", total)
	}
}

func TestNotARecording(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, ErrNotRecording.Error()},
		{"text", []byte("hello, world, this is not it"), ErrNotRecording.Error()},
		{"future version", append([]byte(magic), 0, 99, 0, 0, 0, 2, '{', '}'), "recording format version 99, this hmperf reads versions [1]"},
	}
	for _, tc := range tests {
		_, err := NewReader(bytes.NewReader(tc.data))
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestEveryVersionReads reads the recording kept in testdata for every
// format version ever written, with this version's reader: a newer hmperf
// reads every older recording. Each file holds sample(0) and sample(1) as
// that version wrote them. HMPERF_WRITE_TESTDATA=1 writes the current
// version's file (once, when a version is added; never rewrite an old one).
func TestEveryVersionReads(t *testing.T) {
	if os.Getenv("HMPERF_WRITE_TESTDATA") == "1" {
		path := filepath.Join("testdata", fmt.Sprintf("v%d.hmrec", Version))
		os.Remove(path)
		w, err := Create(path, header(), 0, -1)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			if err := w.Append(sample(i)); err != nil {
				t.Fatal(err)
			}
		}
		w.Close()
	}
	for _, v := range Versions() {
		h, got, torn, err := ReadFile(filepath.Join("testdata", fmt.Sprintf("v%d.hmrec", v)))
		if err != nil || torn {
			t.Fatalf("version %d: %v (torn %v)", v, err, torn)
		}
		if h.Version != v || len(got) != 2 {
			t.Fatalf("version %d file: header version %d, %d records", v, h.Version, len(got))
		}
		for i, r := range got {
			if !reflect.DeepEqual(r, sample(i)) {
				t.Errorf("version %d, record %d:\n%+v\nwant\n%+v", v, i, r, sample(i))
			}
		}
	}
}
