package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hmperf/queries/pgtest"
)

// TestBenchClaimIndexStrategyJSON: bench --claim index-strategy on a fresh
// database prints the three strategies with intervals and a verdict for
// each of the report's figures, in --json, and --report writes them.
func TestBenchClaimIndexStrategyJSON(t *testing.T) {
	dsn := pgtest.NewMigratedDB(t)
	dir := t.TempDir()
	r := runCmd(context.Background(), "", "bench", "--dsn", dsn, "--claim", "index-strategy", "--partition-size", "512kB", "--reps", "6", "--json", "--report", dir)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var doc struct {
		Claim   string `json:"claim"`
		Reps    int    `json:"reps"`
		Figures []struct {
			Subject string   `json:"subject"`
			Name    string   `json:"name"`
			Low     *float64 `json:"ci_low"`
		} `json:"figures"`
		Verdicts []struct {
			Subject string   `json:"subject"`
			Claim   string   `json:"claim"`
			Claimed float64  `json:"claimed"`
			Low     *float64 `json:"ci_low"`
			Verdict string   `json:"verdict"`
		} `json:"verdicts"`
		IntervalMethod string `json:"interval_method"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if doc.Claim != "index-strategy" || doc.Reps != 6 || doc.IntervalMethod == "" {
		t.Fatalf("document %+v", doc)
	}
	strategies := map[string]bool{}
	for _, f := range doc.Figures {
		if f.Name == "total_seconds" && f.Low != nil {
			strategies[f.Subject] = true
		}
	}
	if len(strategies) != 3 {
		t.Errorf("strategies with a bounded total time: %v", strategies)
	}
	claimed := map[string]float64{}
	for _, v := range doc.Verdicts {
		if v.Low == nil || v.Verdict == "" {
			t.Errorf("verdict %+v lacks an interval or outcome", v)
		}
		if v.Claim == "create_seconds" {
			claimed[v.Subject] = v.Claimed
		}
	}
	if claimed["immediate"] != 45.2 || claimed["lazy"] != 12.8 || claimed["deferred"] != 2.1 {
		t.Errorf("the report's three figures judged: %v", claimed)
	}
	md, err := os.ReadFile(filepath.Join(dir, "claim-index-strategy.md"))
	if err != nil || !strings.Contains(string(md), "immediate 45.2 s") || !strings.Contains(string(md), "--claim index-strategy") {
		t.Errorf("report: %v\n%s", err, md)
	}
}

func TestBenchClaimFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--claim", "speed"}, `unknown claim "speed"`},
		{[]string{"--claim", "index-strategy", "--partition-size", "0MB"}, "--partition-size must be a positive size"},
		{[]string{"--claim", "index-strategy", "--partition-size", "lots"}, "--partition-size must be a positive size"},
		{[]string{"--claim", "validation-cache", "--resend-share", "1"}, "--resend-share must be a share from 0 up to but not including 1"},
		{[]string{"--claim", "dedup-memory", "--keys", "0"}, "--keys must be a positive count"},
		{[]string{"--claim", "index-strategy", "--table", "workouts"}, `unknown benchmark table "workouts"`},
	}
	for _, tt := range tests {
		r := runCmd(context.Background(), "", append([]string{"bench", "--dsn", "host=/nonexistent"}, tt.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, tt.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
			t.Errorf("%v: exit %d, stderr %q, want exit 2 and one line with %q", tt.args, r.code, r.stderr, tt.want)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"100MB": 100 << 20, "1MB": 1 << 20, "512kB": 512 << 10, "2GB": 2 << 30, "4096": 4096} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
}

// TestBenchmarksPanelListsClaims: after an insert run and then a claim run,
// the Benchmarks panel shows the insert run's results (not the empty ones
// of the later claim run) and the claim run's verdicts.
func TestBenchmarksPanelListsClaims(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewMigratedDB(t)
	for _, args := range [][]string{
		{"bench", "--dsn", dsn, "--table", "symptoms", "--rows", "200", "--reps", "1"},
		{"bench", "--dsn", dsn, "--claim", "dedup-memory", "--keys", "10000", "--reps", "6"},
	} {
		if r := runCmd(ctx, "", args...); r.code != 0 {
			t.Fatalf("%v: exit %d: %s", args, r.code, r.stderr)
		}
	}
	h, err := dashSource(t, ctx, dsn).Benchmarks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Runs) != 2 || len(h.Results) != 3 || len(h.Comparisons) != 1 {
		t.Errorf("%d runs, %d results, %d comparisons; want 2, 3 and 1", len(h.Runs), len(h.Results), len(h.Comparisons))
	}
	if len(h.Claims) != 4 || !strings.HasPrefix(h.Claims[0].Table, "dedup-memory: ") || h.Claims[0].Outcome == "" || h.Claims[0].CILow == nil {
		t.Errorf("claims %+v", h.Claims)
	}
}
