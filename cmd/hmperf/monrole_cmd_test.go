package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/queries"
	"hmperf/queries/monitor"
	"hmperf/queries/pgtest"
	"hmperf/tui/source"
)

// monitoringRoleDSN makes a role with exactly README's monitoring grants
// on dsn's database (PUBLIC's EXECUTE on hmperf's and the report's
// functions revoked first, so only the README's grant counts) and returns
// its DSN.
func monitoringRoleDSN(t *testing.T, dsn string) string {
	t.Helper()
	dbExec(t, dsn, "REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA public, hmperf FROM PUBLIC")
	roleDSN := newRole(t, dsn)
	cfg, err := pgx.ParseConfig(roleDSN)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range readmeGrants(t, cfg.User, cfg.Database) {
		dbExec(t, dsn, stmt)
	}
	return roleDSN
}

// TestMonitoringRoleCommands runs hmperf's commands as README's monitoring
// role: the read-only ones exit 0, monitor samples in memory and says so,
// the writing ones refuse in one line naming the privilege and the GRANT,
// and no output carries a SQLSTATE.
func TestMonitoringRoleCommands(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewMigratedDB(t)
	roleDSN := monitoringRoleDSN(t, dsn)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, tc := range []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr []string // each in stderr's one line
	}{
		{name: "monitor --once", args: []string{"monitor", "--once", "--interval", "200ms"},
			wantStderr: []string{"in memory", "lacks UPDATE on TABLE hmperf.write_sampler", "GRANT UPDATE ON TABLE hmperf.write_sampler"}},
		{name: "alerts", args: []string{"alerts"}},
		{name: "migrate status", args: []string{"migrate", "status"}},
		{name: "indexes status", args: []string{"indexes", "status"}},
		{name: "bench --history", args: []string{"bench", "--history"}},
		{name: "ingest refused", args: []string{"ingest", "--sample", "10"}, wantCode: 1,
			wantStderr: []string{"lacks INSERT on TABLE hmperf.ingest_batch_stats", "GRANT INSERT ON TABLE hmperf.ingest_batch_stats TO"}},
		{name: "indexes process refused", args: []string{"indexes", "process"}, wantCode: 1,
			wantStderr: []string{"lacks UPDATE on TABLE public.deferred_index_creation", "GRANT UPDATE ON TABLE public.deferred_index_creation TO"}},
		{name: "migrate up refused", args: []string{"migrate", "up", "--yes"}, wantCode: 1,
			wantStderr: []string{"lacks CREATE on DATABASE", "GRANT CREATE ON DATABASE"}},
		{name: "migrate adopt refused", args: []string{"migrate", "adopt", "--yes"}, wantCode: 1,
			wantStderr: []string{"lacks CREATE on DATABASE", "GRANT CREATE ON DATABASE"}},
		{name: "bench refused", args: []string{"bench", "--rows", "10", "--reps", "1"}, wantCode: 1,
			wantStderr: []string{"lacks INSERT on TABLE hmperf.benchmark_runs", "GRANT INSERT ON TABLE hmperf.benchmark_runs TO"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCmd(ctx, "", append(tc.args, "--dsn", roleDSN)...)
			if r.code != tc.wantCode {
				t.Errorf("exit %d, want %d\nstdout %s\nstderr %s", r.code, tc.wantCode, r.stdout, r.stderr)
			}
			if strings.Contains(r.stdout+r.stderr, "SQLSTATE") {
				t.Errorf("output carries a SQLSTATE:\n%s%s", r.stdout, r.stderr)
			}
			for _, want := range tc.wantStderr {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr %q does not say %q", r.stderr, want)
				}
			}
			if tc.wantCode != 0 && strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
				t.Errorf("refusal on more than one line: %q", r.stderr)
			}
		})
	}
}

// TestMonitorInMemory: as the monitoring role, `monitor --once --json`
// takes a baseline, waits one interval and reports the service's writes in
// between, in memory, without storing anything; hmperf's own rows in the
// same interval (recorded in hmperf.own_writes) are taken out as the
// stored sampler takes them out.
func TestMonitorInMemory(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewMigratedDB(t)
	roleDSN := monitoringRoleDSN(t, dsn)
	svc := serviceConn(t, dsn)
	var wg sync.WaitGroup
	var svcErr error
	var r result
	wg.Go(func() {
		r = runCmd(context.Background(), "", "monitor", "--once", "--json", "--interval", "4s", "--dsn", roleDSN)
	})
	time.Sleep(time.Second) // the baseline is taken by now
	svcErr = serviceRows(svc, 700, 350)
	if svcErr == nil {
		if ir := runCmd(context.Background(), "", "ingest", "--sample", "500", "--target", "live", "--dsn", dsn); ir.code != 0 {
			t.Errorf("sample ingest: exit %d: %s", ir.code, ir.stderr)
		}
	}
	wg.Wait()
	if svcErr != nil {
		t.Fatal(svcErr)
	}
	var doc monitor.SampleResult
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || r.code != 0 {
		t.Fatalf("monitor --once --json as the monitoring role: exit %d, %v\nstdout %q\nstderr %q", r.code, err, r.stdout, r.stderr)
	}
	if !doc.InMemory || doc.Status != monitor.SampleTaken || !strings.Contains(r.stderr, "in memory") {
		t.Errorf("sample %+v, stderr %q; want one taken in memory, and said so", doc, r.stderr)
	}
	want := map[string]int64{"activity_metrics_v2": 700, "users": 1}
	var own int64
	for _, ts := range doc.Tables {
		if ts.Rows != want[ts.Table] || ts.RolledBack != 0 {
			t.Errorf("%s: %d rows, %d rolled back; the service wrote %d (hmperf %d)", ts.Table, ts.Rows, ts.RolledBack, want[ts.Table], ts.HmperfRows)
		}
		own += ts.HmperfRows
	}
	if own == 0 {
		t.Errorf("hmperf's sample ingest shows nowhere as hmperf's: %+v", doc.Tables)
	}
	var sampled *time.Time
	queryRow(t, dsn, `SELECT sampled_at FROM hmperf.write_sampler`, &sampled)
	if sampled != nil {
		t.Errorf("sampling in memory stored a sample at %s", sampled)
	}
}

// TestMonitorRefusesForeignDatabase: on the service's database before
// `migrate adopt`, monitor says in one line to adopt it first.
func TestMonitorRefusesForeignDatabase(t *testing.T) {
	t.Parallel()
	dsn := serviceDB(t)
	r := runCmd(context.Background(), "", "monitor", "--once", "--dsn", dsn)
	if r.code == 0 || !strings.Contains(r.stderr, "hmperf migrate adopt") || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 ||
		strings.Contains(r.stderr, "SQLSTATE") {
		t.Errorf("monitor on a database not adopted: exit %d, stderr %q; want one line naming hmperf migrate adopt", r.code, r.stderr)
	}
}

// TestMonitoringRoleDashboardWrites: the dashboard without --read-only, as
// the monitoring role, polls as usual, and its write keys (i, b, p) refuse
// with the privilege the role lacks and the GRANT, before writing.
func TestMonitoringRoleDashboardWrites(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewMigratedDB(t)
	roleDSN := monitoringRoleDSN(t, dsn)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	src := pollSource(t, roleDSN)
	if _, err := src.Constraints(ctx); err != nil {
		t.Errorf("Constraints as the monitoring role: %v", err)
	}
	for _, tc := range []struct {
		key   string
		write func() error
		grant string
	}{
		{"i", func() error { return src.StartIngest(ctx) }, "GRANT INSERT ON TABLE hmperf.ingest_batch_stats"},
		{"b", func() error { return src.RunBenchmark(ctx, "symptoms", func(source.BenchProgress) {}) }, "GRANT INSERT ON TABLE hmperf.benchmark_runs"},
		{"p", func() error { return src.ProcessIndexes(ctx) }, "GRANT UPDATE ON TABLE public.deferred_index_creation"},
	} {
		err := tc.write()
		var denied *queries.PrivilegeError
		if !errors.As(err, &denied) || !strings.Contains(err.Error(), tc.grant) || strings.Contains(err.Error(), "SQLSTATE") {
			t.Errorf("%s as the monitoring role: %v; want a refusal naming %q", tc.key, err, tc.grant)
		}
	}
}
