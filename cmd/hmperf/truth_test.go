package main

import (
	"context"
	"encoding/json"
	"testing"

	"hmperf/queries/pgtest"
)

// failureCounts is the part of `hmperf ingest --json` that splits rejected
// records by who stopped them.
type failureCounts struct {
	Received           int64 `json:"received"`
	Rejected           int64 `json:"rejected"`
	ValidationRejected int64 `json:"rejected_by_validation"`
	ConstraintFailures int64 `json:"constraint_failures"`
}

// firingAlerts runs `hmperf alerts --json` and returns the exit code and the
// names of the firing alerts.
func firingAlerts(t *testing.T, dsn string) (int, map[string]int) {
	t.Helper()
	r := runCmd(context.Background(), "", "alerts", "--dsn", dsn, "--json")
	var doc alertsJSON
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("alerts --json: exit %d, %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	names := map[string]int{}
	for _, a := range doc.Alerts {
		names[a.Name]++
	}
	return r.code, names
}

// TestSampleRunAlerts: records the validator stops are "rejected by
// validation", not constraint failures. A first sample run at the default
// invalid rate fires no alert at all; a run whose validation is skipped
// sends the invalid records to PostgreSQL, which refuses them, and those
// are constraint failures; a run with half its records invalid fires the
// validation alert and still no constraint alert.
func TestSampleRunAlerts(t *testing.T) {
	cases := []struct {
		name       string
		args       []string
		validation bool // the validator stopped records
		refused    bool // PostgreSQL refused rows
		code       int
		firing     []string
	}{
		{"first run, default invalid rate", nil, true, false, alertsOK, nil},
		{"validation skipped", []string{"--skip-validation", "bulk-import", "--invalid-rate", "0.05"}, false, true,
			alertsWarning, []string{"constraint_failures_warning"}},
		{"half the records invalid", []string{"--invalid-rate", "0.5"}, true, false,
			alertsWarning, []string{"validation_rejections_high"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dsn := pgtest.NewMigratedDB(t)
			args := append([]string{"ingest", "--dsn", dsn, "--sample", "3000", "--seed", "7", "--batch-size", "1000", "--json"}, c.args...)
			r := runCmd(context.Background(), "", args...)
			if r.code != 0 {
				t.Fatalf("ingest: exit %d: %s", r.code, r.stderr)
			}
			var got failureCounts
			if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
				t.Fatalf("ingest --json: %v\n%s", err, r.stdout)
			}
			if (got.ValidationRejected > 0) != c.validation || (got.ConstraintFailures > 0) != c.refused ||
				got.ValidationRejected+got.ConstraintFailures > got.Rejected {
				t.Errorf("counts %+v: want validation rejections %v, constraint failures %v, both within rejected",
					got, c.validation, c.refused)
			}
			code, firing := firingAlerts(t, dsn)
			want := map[string]bool{}
			for _, name := range c.firing {
				want[name] = true
				if firing[name] == 0 {
					t.Errorf("%s did not fire (firing: %v)", name, firing)
				}
			}
			for name := range firing {
				if !want[name] {
					t.Errorf("%s fired (firing: %v), want only %v", name, firing, c.firing)
				}
			}
			if code != c.code {
				t.Errorf("alerts exit %d, want %d", code, c.code)
			}
		})
	}
}
