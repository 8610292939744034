package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"

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
	hasKeys(t, results[0], "table", "variant", "median_rows_per_sec", "min_rows_per_sec", "max_rows_per_sec", "constraint_overhead_pct",
		"overhead_ci_low", "overhead_ci_high")
	hasKeys(t, comps[0], "pair", "ratio_median", "ratio_min", "ratio_max", "claimed_improvement_pct", "measured_improvement_pct", "verdict",
		"ci_low", "ci_high", "method", "reps")
	hasKeys(t, doc, "settings", "table_bytes_before", "write_method", "scratch_copies", "interval_method", "overhead_definition")
	if doc["scratch_copies"] != true {
		t.Errorf("scratch_copies = %v, want true: every run writes scratch copies", doc["scratch_copies"])
	}
	c := comps[0].(map[string]any)
	// Two repetitions bound no 95% interval: the verdict must be
	// inconclusive, with null interval ends, whatever the timings.
	if c["pair"] != "symptoms" || c["claimed_improvement_pct"] != 45.0 || c["verdict"] != "inconclusive" || c["ci_low"] != nil || c["reps"] != 2.0 {
		t.Errorf("comparison %v", c)
	}
	verdicts, _ := c["verdicts"].([]any)
	want := map[string]string{"improvement_pct": "inconclusive", "ops_per_sec": "not comparable", "overhead_pct": "inconclusive"}
	for _, v := range verdicts {
		hasKeys(t, v, "claim", "claimed", "measured", "ci_low", "ci_high", "method", "reps", "verdict", "why")
		m := v.(map[string]any)
		if m["verdict"] != want[m["claim"].(string)] || m["method"] == "" {
			t.Errorf("verdict %v, want %s", m, want[m["claim"].(string)])
		}
	}
	settings, _ := doc["settings"].(map[string]any)
	for _, k := range []string{"fsync", "synchronous_commit", "wal_level", "shared_buffers", "jit"} {
		if _, ok := settings[k]; !ok {
			t.Errorf("settings lack %s: %v", k, settings)
		}
	}
}

// TestBenchReport: --report writes report.md with the claims, intervals,
// settings and the command that reproduces the run (no DSN), and one SVG
// per table that the Markdown links.
func TestBenchReport(t *testing.T) {
	dsn := pgtest.NewMigratedDB(t)
	dir := t.TempDir()
	r := runCmd(context.Background(), "", "bench", "--dsn", dsn, "--table", "nutrition", "--rows", "200", "--reps", "6", "--report", dir)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"hmperf bench --table nutrition --rows 200 --reps 6\n", "](bench-nutrition.svg)", "95% interval",
		"fsync=", "synchronous_commit=", "improvement over original", "not comparable", "(t - t_floor) / t_floor"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(string(md), dsn) {
		t.Error("report.md contains the DSN")
	}
	svg, err := os.ReadFile(filepath.Join(dir, "bench-nutrition.svg"))
	if err != nil || !strings.Contains(string(svg), "<svg") {
		t.Errorf("chart: %v, %.80q", err, svg)
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
	// One repetition: every claim measured by COPY is inconclusive, and
	// the ops/s claims (the report's functions) are not comparable.
	if n := strings.Count(r.stdout, " inconclusive\n"); n != 6 {
		t.Errorf("%d inconclusive verdicts, want 6 (improvement and overhead x 3 tables):\n%s", n, r.stdout)
	}
	if n := strings.Count(r.stdout, " not comparable\n"); n != 3 {
		t.Errorf("%d not comparable verdicts, want 3:\n%s", n, r.stdout)
	}
	for _, want := range []string{"overhead: (t - t_floor) / t_floor", "settings: fsync=", "table sizes before: ", "95% interval"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
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
		{"zero rows", []string{"--rows", "0"}, 2, "--rows must be a positive count (got 0)"},
		{"bad reps", []string{"--reps", "many"}, 2, "auto"},
		{"unknown method", []string{"--method", "magic"}, 2, "unknown benchmark method"},
		{"commit with function", []string{"--method", "function", "--commit"}, 2, "--commit does not apply"},
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

func TestReproduceDropsSecrets(t *testing.T) {
	fs := pflag.NewFlagSet("bench", pflag.ContinueOnError)
	new(benchOpts).flags(fs)
	new(globals).register(fs)
	err := fs.Parse([]string{"--dsn", "postgres://u:secret@h/db", "--rows", "10", "--report=out", "--dsn=x",
		"--method", "service", "--commit", "--history=false", "--lock-timeout", "2s", "--servers", "my servers.toml"})
	if err != nil {
		t.Fatal(err)
	}
	got := reproduce(fs)
	if got != "hmperf bench --rows 10 --method service --commit --history=false --lock-timeout 2s --servers 'my servers.toml'" {
		t.Errorf("reproduce = %q", got)
	}
}

func TestBenchHelpDefinesOverhead(t *testing.T) {
	r := runCmd(context.Background(), "", "bench", "--help")
	if !strings.Contains(r.stderr+r.stdout, "(t - t_floor) / t_floor") || !strings.Contains(r.stderr+r.stdout, "inconclusive") {
		t.Errorf("help lacks the overhead definition or the verdicts:\n%s%s", r.stdout, r.stderr)
	}
	for _, want := range []string{"scratch copies in schema hmperf_scratch_N", "the service's tables, sequences and users are not touched",
		"never an alert"} {
		if !strings.Contains(r.stderr+r.stdout, want) {
			t.Errorf("help does not say %q:\n%s%s", want, r.stdout, r.stderr)
		}
	}
}

// TestBenchAsksOnATerminal: a person at a terminal is told where the rows
// go and asked; "no" runs nothing; --yes does not ask.
func TestBenchAsksOnATerminal(t *testing.T) {
	var stdout, stderr strings.Builder
	e := env{stdin: strings.NewReader("n\n"), stdout: &stdout, stderr: &stderr, isTerminal: func() bool { return true }}
	if code := run(context.Background(), e, []string{"bench", "--dsn", "postgres://nowhere.invalid/db"}); code == 0 {
		t.Fatal("answering no still ran the benchmark")
	}
	if !strings.Contains(stderr.String(), "Rows go to scratch copies") || !strings.Contains(stderr.String(), "cancelled: nothing changed") {
		t.Errorf("stderr %q: want the prompt saying where rows go, then cancelled", stderr.String())
	}
	stderr.Reset()
	e.stdin = strings.NewReader("")
	run(context.Background(), e, []string{"bench", "--yes", "--dsn", "postgres://nowhere.invalid/db", "--connect-timeout", "1s"})
	if strings.Contains(stderr.String(), "Continue?") {
		t.Errorf("--yes still asked: %q", stderr.String())
	}
}
