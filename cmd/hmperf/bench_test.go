package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"hmperf/queries/pgtest"
)

func TestBenchJSON(t *testing.T) {
	dsn := pgtest.NewMigratedDB(t)
	r := runCmd(context.Background(), "", "bench", "--dsn", dsn, "--table", "symptoms", "--rows", "300", "--reps", "2", "--json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	results, _ := doc["results"].([]any)
	comps, _ := doc["comparisons"].([]any)
	if len(results) != 3 || len(comps) != 1 || doc["run_id"] == nil || !strings.HasPrefix(doc["server_version"].(string), "PostgreSQL") {
		t.Fatalf("document %v", doc)
	}
	hasKeys(t, results[0], "table", "variant", "median_rows_per_sec", "min_rows_per_sec", "max_rows_per_sec", "constraint_overhead_pct")
	hasKeys(t, comps[0], "pair", "ratio_median", "ratio_min", "ratio_max", "claimed_improvement_pct", "measured_improvement_pct", "verdict")
	c := comps[0].(map[string]any)
	if c["pair"] != "symptoms" || c["claimed_improvement_pct"] != 45.0 || (c["verdict"] != "holds" && c["verdict"] != "does not hold") {
		t.Errorf("comparison %v", c)
	}
}

func hasKeys(t *testing.T, v any, keys ...string) {
	t.Helper()
	m, _ := v.(map[string]any)
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("%v lacks %q", m, k)
		}
	}
}

func TestBenchText(t *testing.T) {
	dsn := pgtest.NewMigratedDB(t)
	r := runCmd(context.Background(), "", "bench", "--dsn", dsn, "--rows", "200", "--reps", "1")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"nutrition", "symptoms", "activity", ">= 65%", "2,850 ops/s", "<= 8%", ">= 45%", "1,950 ops/s", "<= 12%", ">= 42%", "2,100 ops/s", "<= 15%", "median rows/s"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	if n := strings.Count(r.stdout, " holds\n") + strings.Count(r.stdout, " does not hold\n"); n != 9 {
		t.Errorf("%d verdicts, want 9 (3 claims x 3 tables):\n%s", n, r.stdout)
	}
}

func TestBenchRefusals(t *testing.T) {
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"read-only", []string{"--read-only"}, 1, "--read-only"},
		{"unknown table", []string{"--table", "heart"}, 2, "unknown benchmark table"},
		{"zero rows", []string{"--rows", "0"}, 2, "at least 1"},
		{"argument", []string{"now"}, 2, "no arguments"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runCmd(context.Background(), "", append([]string{"bench", "--dsn", "host=127.0.0.1 port=1"}, c.args...)...)
			if r.code != c.code || !strings.Contains(r.stderr, c.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, c.code, c.want)
			}
		})
	}
}

func TestBenchMonitoringOverhead(t *testing.T) {
	dsn := pgtest.NewMigratedDB(t)
	r := runCmd(context.Background(), "", "bench", "--dsn", dsn, "--monitoring-overhead", "--rows", "100", "--reps", "4")
	if r.code != 0 || !strings.Contains(r.stdout, "monitor feed overhead") || !strings.Contains(r.stdout, "target <= 2%") {
		t.Errorf("exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestThousands(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 999.4: "999", 1000: "1,000", 2850: "2,850", 1234567.8: "1,234,568", -1500: "-1,500"} {
		if got := thousands(in); got != want {
			t.Errorf("thousands(%g) = %q, want %q", in, got, want)
		}
	}
}
