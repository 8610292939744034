package oncallcmd

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"hmperf/cmd/internal/exitcode"
	"hmperf/queries/activity"
	"hmperf/tui/recording"
)

// TestParseWhen: RFC 3339 stands alone, a time of day falls on day, and
// anything else is a usage error naming the flag.
func TestParseWhen(t *testing.T) {
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{"", time.Time{}, false},
		{"2025-01-02T03:04:05Z", time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), false},
		{"14:30", day.Add(14*time.Hour + 30*time.Minute), false},
		{"14:30:15", day.Add(14*time.Hour + 30*time.Minute + 15*time.Second), false},
		{"half past two", time.Time{}, true},
	} {
		got, err := ParseWhen("--from", c.in, day)
		if c.wantErr {
			if !errors.Is(err, exitcode.ErrUsage) || !strings.Contains(err.Error(), "--from") {
				t.Errorf("%q: %v, want a usage error naming --from", c.in, err)
			}
			continue
		}
		if err != nil || !got.Equal(c.want) {
			t.Errorf("%q: %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

// TestWindowToBeforeFrom: a window that ends before it starts is a usage
// error.
func TestWindowToBeforeFrom(t *testing.T) {
	_, err := Window(&bytes.Buffer{}, nil, "11:00", "10:00")
	if !errors.Is(err, exitcode.ErrUsage) || !strings.Contains(err.Error(), "before --from") {
		t.Errorf("--to before --from: %v", err)
	}
}

// TestActivityTree: a waiter is printed under each blocker, the root says
// how many it holds up, an idle-in-transaction state is shouted, and
// sessions outside the tree, the xmin holder and progress follow.
func TestActivityTree(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	snap := activity.Snapshot{
		Sessions: []activity.Session{
			{PID: 10, State: "idle in transaction", Root: true, HoldsUp: 2, XactAgeSeconds: f(42)},
			{PID: 20, State: "active", BlockedBy: []int{10}, WaitEventType: "Lock", WaitEvent: "relation", LockWaitSeconds: f(7)},
			{PID: 30, State: "active", BlockedBy: []int{20}},
			{PID: 40, State: "idle"},
		},
		Roots:      []activity.Root{{PID: 10, HoldsUp: 2}},
		XminHolder: &activity.XminHolder{Kind: "session", ID: "10", XidAge: 5, AgeSeconds: f(42)},
		Progress:   []activity.Progress{{PID: 50, Command: "VACUUM", Relation: "t", Phase: "scanning heap", Done: 1, Total: 4, Unit: "blocks", Percent: f(25)}},
	}
	var b bytes.Buffer
	Activity(&b, snap)
	lines := strings.Split(b.String(), "\n")
	for i, want := range []string{
		"pid",
		"10 ROOT (holds up 2)  ",
		"└ 20  ",
		"  └ 30  ",
		"40  ",
		"",
		"oldest xmin held by session 10: 5 transactions old, open 42s",
		"progress: pid 50 VACUUM t scanning heap: 25.0% (1 of 4 blocks)",
	} {
		if i >= len(lines) || !strings.HasPrefix(lines[i], want) {
			t.Fatalf("line %d does not start %q:\n%s", i, want, b.String())
		}
	}
	for _, want := range []string{"IDLE IN TRANSACTION", "Lock/relation 7s", "42s"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no %q in:\n%s", want, b.String())
		}
	}
}

// TestReportText: an empty window says so; otherwise the alerts, an
// unknown lag and the benchmarks are written as such.
func TestReportText(t *testing.T) {
	at := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
	cleared := at.Add(time.Minute)
	for _, c := range []struct {
		name string
		rep  recording.Report
		want []string
	}{
		{"empty", recording.Report{}, []string{"no samples in the window\n"}},
		{"no alerts", recording.Report{From: at, To: at, Samples: 1}, []string{"2026-03-01T02:00:00Z to 2026-03-01T02:00:00Z, 1 samples", "  none fired"}},
		{"full", recording.Report{From: at, To: cleared, Samples: 2,
			Tables:     []recording.TableReport{{Table: "heart_rate", ObservedRows: 9, PeakRowsPerSec: 3}},
			Alerts:     []recording.AlertSpan{{Name: "a", Severity: "WARNING", Table: "t", FiredAt: at, ClearedAt: &cleared}, {Name: "b", Severity: "CRITICAL", Table: "u", FiredAt: at}},
			WorstLag:   &recording.Lag{Server: "replica", At: at},
			Benchmarks: []recording.BenchSeen{{ID: 3, At: at, Table: "heart_rate", Status: "done"}}},
			[]string{"heart_rate  9", "WARNING a t: fired 2026-03-01T02:00:00Z, cleared 2026-03-01T02:01:00Z",
				"CRITICAL b u: fired 2026-03-01T02:00:00Z, still firing at the end", "replica at 2026-03-01T02:00:00Z: -, ? bytes",
				"run 3 2026-03-01T02:00:00Z heart_rate: done"}},
	} {
		var b bytes.Buffer
		Report(&b, c.rep)
		for _, want := range c.want {
			if !strings.Contains(b.String(), want) {
				t.Errorf("%s: no %q in:\n%s", c.name, want, b.String())
			}
		}
	}
}
