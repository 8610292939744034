package servers

import (
	"strings"
	"testing"
	"time"

	"hmperf/tui/source"
	"hmperf/tui/theme"
)

func TestStateAcrossPolls(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	up := source.Server{Name: "r", Role: "replica", Version: "17.6", Connections: 4}
	down := source.Server{Name: "r", Err: "connection refused"}
	tests := []struct {
		name      string
		polls     []source.Server
		want      State
		wantLabel string
		wantConns int // the figures kept from the last good poll
	}{
		{"never polled", nil, Unknown, "?", 0},
		{"answers", []source.Server{up}, Up, "up", 4},
		{"one failure", []source.Server{up, down}, Stale, "STALE 12:00:01", 4},
		{"two failures", []source.Server{up, down, down}, Down, "DOWN 12:00:01", 4},
		{"three failures keep the first time", []source.Server{up, down, down, down}, Down, "DOWN 12:00:01", 4},
		{"back", []source.Server{up, down, down, up}, Up, "up", 4},
		{"a failure after coming back starts again", []source.Server{up, down, down, up, down}, Stale, "STALE 12:00:04", 4},
		{"down from the start", []source.Server{down, down}, Down, "DOWN 12:00:00", 0},
	}
	for _, tc := range tests {
		m := New(theme.NewStyles(theme.Default()), []string{"r"})
		for i, p := range tc.polls {
			m.SetData([]source.Server{p}, t0.Add(time.Duration(i)*time.Second))
		}
		got := m.List()[0]
		if got.State != tc.want || got.Label() != tc.wantLabel || got.Connections != tc.wantConns {
			t.Errorf("%s: %v %q with %d connections; want %v %q with %d", tc.name, got.State, got.Label(), got.Connections,
				tc.want, tc.wantLabel, tc.wantConns)
		}
	}
}

func TestRowsSayWhatIsNotKnown(t *testing.T) {
	lag := 3.5 * 1024 * 1024
	secs := 12.25
	tests := []struct {
		name string
		t    Tracked
		want []string
	}{
		{"up", Tracked{State: Up, Server: source.Server{Role: "replica", LagBytes: &lag, LagSeconds: &secs, Warning: 1}},
			[]string{"replica", "up", "3.5 MB", "12.2s", "n/a", "n/a", "1W"}},
		{"stale keeps figures, alerts unknown", Tracked{State: Stale, Since: time.Date(2026, 1, 1, 9, 8, 7, 0, time.UTC),
			Server: source.Server{Role: "primary", LagBytes: &lag, Critical: 2}},
			[]string{"primary", "STALE 09:08:07", "3.5 MB", "n/a", "n/a", "n/a", "?"}},
		{"down shows none", Tracked{State: Down, Server: source.Server{Role: "primary", LagBytes: &lag, Critical: 2}},
			[]string{"primary", "DOWN 00:00:00", "-", "-", "-", "-", "?"}},
	}
	for _, tc := range tests {
		got := row(tc.t, "x")[1:8]
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%s: row %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestLabel(t *testing.T) {
	if got := Label(0, "db1"); got != "db1" {
		t.Errorf("short name: %q", got)
	}
	if got := Label(2, "hmperf_admin@/tmp/x/sock:5432/postgres"); got != "#3" {
		t.Errorf("long name: %q, want #3", got)
	}
}
