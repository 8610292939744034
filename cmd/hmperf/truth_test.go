package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"hmperf/cmd/internal/alertcheck"
	"hmperf/engine"
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
	var doc alertcheck.Doc
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("alerts --json: exit %d, %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	names := map[string]int{}
	for _, a := range doc.Alerts {
		names[a.Name]++
	}
	return r.code, names
}

// TestSampleRunAlerts: a generated sample is hmperf's own work, never a
// page. Whatever its invalid rate, and whether the validator or PostgreSQL
// stops its bad records, no alert fires; its monitor samples show under
// hmperf_sample.<table>. The same kind of records imported as a payload
// are real data and fire the alert they deserve: half of them invalid
// fires validation_rejections_high and no constraint alert; with
// validation skipped PostgreSQL refuses them, and those are constraint
// failures. Records the validator stops are "rejected by validation",
// never constraint failures.
func TestSampleRunAlerts(t *testing.T) {
	cases := []struct {
		name       string
		file       bool // import the records as a payload instead of a sample
		invalid    float64
		args       []string
		validation bool // the validator stopped records
		refused    bool // PostgreSQL refused rows
		code       int
		firing     []string
	}{
		{"sample, default invalid rate", false, 0.02, nil, true, false, alertcheck.OK, nil},
		{"sample, validation skipped", false, 0.05, []string{"--skip-validation", "bulk-import"}, false, true, alertcheck.OK, nil},
		{"sample, half the records invalid", false, 0.5, nil, true, false, alertcheck.OK, nil},
		{"payload, validation skipped", true, 0.05, []string{"--skip-validation", "bulk-import"}, false, true,
			alertcheck.Warning, []string{"constraint_failures_warning"}},
		{"payload, half the records invalid", true, 0.5, nil, true, false,
			alertcheck.Warning, []string{"validation_rejections_high"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dsn := pgtest.NewMigratedDB(t)
			args := []string{"ingest", "--dsn", dsn, "--batch-size", "1000", "--json"}
			if c.file {
				args = append(args, "--file", invalidPayload(t, 3000, c.invalid), "--create-users")
			} else {
				args = append(args, "--sample", "3000", "--seed", "7", "--invalid-rate", strconv.FormatFloat(c.invalid, 'f', -1, 64))
			}
			r := runCmd(context.Background(), "", append(args, c.args...)...)
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
			var labelled, named int
			queryRow(t, dsn, `SELECT count(*) FILTER (WHERE table_name LIKE 'hmperf\_sample.%'),
			                         count(*) FILTER (WHERE table_name NOT LIKE 'hmperf\_%')
			                    FROM constraint_performance_monitor WHERE source = 'ingest'`, &labelled, &named)
			if c.file && (labelled != 0 || named == 0) {
				t.Errorf("a payload import's monitor samples: %d labelled hmperf_sample, %d under the tables' names; want all under the names", labelled, named)
			}
			if !c.file && (labelled == 0 || named != 0) {
				t.Errorf("a sample's monitor samples: %d labelled hmperf_sample, %d under the tables' names; want all labelled", labelled, named)
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

// invalidPayload writes a payload of n generated records, a share invalid
// of them out of range, in the service's format, and returns its path.
func invalidPayload(t *testing.T, n int, invalid float64) string {
	t.Helper()
	g, err := engine.NewGenerator(engine.GenConfig{Seed: 7, InvalidRate: invalid, End: time.Now().UTC().Truncate(time.Hour),
		Types: []engine.Kind{engine.KindHeartRate, engine.KindBloodPressure, engine.KindActivity, engine.KindNutrition}})
	if err != nil {
		t.Fatal(err)
	}
	recs := make([]engine.Record, n)
	for i := range recs {
		recs[i] = g.Next().Record
	}
	p := filepath.Join(t.TempDir(), "payload.json")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := engine.EncodePayload(f, recs); err != nil {
		t.Fatal(err)
	}
	return p
}
