package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"hmperf/cmd/internal/alertcheck"
	"hmperf/queries/pgtest"
)

// overheadRows stores a benchmark repetition of nutrition_metrics measured
// now whose constraint overhead is (secs - floor)/floor.
func overheadRows(t *testing.T, dsn string, secs, floor float64) {
	t.Helper()
	execSQL(t, dsn, `
		WITH run AS (INSERT INTO hmperf.benchmark_runs (tables, rows, reps, server_version, status)
		             VALUES ('{nutrition_metrics}', 1000, 1, 'test', 'done') RETURNING id)
		INSERT INTO hmperf.benchmark_results (run_id, table_name, variant, rep, rows, seconds, rows_per_second)
		SELECT run.id, 'nutrition_metrics', v, 1, 1000, s, 1000 / s
		  FROM run, (VALUES ('original', $1::float8), ('unconstrained', $2::float8)) AS x(v, s)`, secs, floor)
}

// liveOverhead stores a sample of constraint overhead pct measured now on
// the live nutrition_metrics' own layout: the service's state, which pages.
func liveOverhead(t *testing.T, dsn string, pct float64) {
	t.Helper()
	execSQL(t, dsn, `INSERT INTO constraint_performance_monitor (table_name, source, rows, seconds, constraint_overhead_pct)
		VALUES ('nutrition_metrics', 'trigger', 1000, 1, $1)`, pct)
}

func TestAlertsExitCodes(t *testing.T) {
	cases := []struct {
		name   string
		setup  func(t *testing.T, dsn string)
		code   int
		status string
	}{
		{"ok", func(*testing.T, string) {}, 0, "OK: no alerts"},
		// 233% over the floor, measured by a benchmark: its run's finding.
		{"a benchmark's overhead", func(t *testing.T, dsn string) { overheadRows(t, dsn, 1, 0.3) }, 0, "OK: no alerts"},
		{"warning", func(t *testing.T, dsn string) { liveOverhead(t, dsn, 40) }, 1, "WARNING: 1 alert"},
		{"critical", func(t *testing.T, dsn string) { liveOverhead(t, dsn, 230) }, 2, "CRITICAL: 2 alerts"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dsn := pgtest.NewMigratedDB(t)
			c.setup(t, dsn)
			r := runCmd(context.Background(), "", "alerts", "--dsn", dsn, "--read-only")
			if r.code != c.code || !strings.HasPrefix(r.stdout, c.status+"\n") {
				t.Errorf("exit %d, stdout %q; want %d and %q", r.code, r.stdout, c.code, c.status)
			}
			j := runCmd(context.Background(), "", "alerts", "--dsn", dsn, "--json")
			var doc alertcheck.Doc
			if err := json.Unmarshal([]byte(j.stdout), &doc); err != nil || j.code != c.code || doc.ExitCode != c.code {
				t.Errorf("--json: exit %d, %v, %q", j.code, err, j.stdout)
			}
		})
	}
}

func TestAlertsUnknown(t *testing.T) {
	t.Run("unreachable server", func(t *testing.T) {
		r := runBin(t, cleanEnv(), "", "alerts", "--dsn", "host=127.0.0.1 port=1 user=x dbname=x sslmode=disable connect_timeout=5", "--connect-timeout", "5s")
		if r.code != 3 || !strings.HasPrefix(r.stdout, "UNKNOWN: ") || r.elapsed > 5*time.Second+2*time.Second {
			t.Errorf("exit %d after %s, stdout %q, stderr %q; want 3 within the connect timeout", r.code, r.elapsed, r.stdout, r.stderr)
		}
	})
	t.Run("missing schema", func(t *testing.T) {
		r := runCmd(context.Background(), "", "alerts", "--dsn", pgtest.NewDB(t))
		if r.code != 3 || !strings.Contains(r.stdout, "check_constraint_performance_alerts") {
			t.Errorf("exit %d, stdout %q; want 3 naming the missing function", r.code, r.stdout)
		}
	})
}
