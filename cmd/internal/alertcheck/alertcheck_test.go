package alertcheck

import (
	"errors"
	"testing"

	"hmperf/queries/monitor"
)

// TestWorstStatus: CRITICAL over UNKNOWN over WARNING over OK.
func TestWorstStatus(t *testing.T) {
	tests := []struct {
		codes []int
		want  int
	}{
		{[]int{0, 0}, 0},
		{[]int{0, 1}, 1},
		{[]int{1, 3, 0}, 3},
		{[]int{3, 2, 1}, 2},
		{[]int{2, 0}, 2},
	}
	for _, tc := range tests {
		results := make([]Server, len(tc.codes))
		for i, c := range tc.codes {
			results[i] = Server{Name: "s", ExitCode: c}
		}
		if got := Summarize(results); got.ExitCode != tc.want || got.Status != Status[tc.want] {
			t.Errorf("worst of %v = %d %s, want %d", tc.codes, got.ExitCode, got.Status, tc.want)
		}
	}
}

// TestResult: a server's exit status is its worst alert's, UNKNOWN with
// the reason when the alerts could not be read, OK with none.
func TestResult(t *testing.T) {
	for _, tc := range []struct {
		name   string
		alerts []monitor.Alert
		err    error
		want   int
	}{
		{"none", nil, nil, OK},
		{"a warning", []monitor.Alert{{Severity: monitor.Warning}}, nil, Warning},
		{"a critical among warnings", []monitor.Alert{{Severity: monitor.Warning}, {Severity: monitor.Critical}}, nil, Critical},
		{"unreadable", nil, errors.New("no privilege"), Unknown},
	} {
		r := Result("s", "primary", tc.alerts, tc.err)
		if r.ExitCode != tc.want || r.Status != Status[tc.want] || r.Alerts == nil || (tc.err != nil) != (r.Error != "") {
			t.Errorf("%s: %+v; want exit %d", tc.name, r, tc.want)
		}
	}
}
