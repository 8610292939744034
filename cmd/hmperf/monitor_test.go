package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"hmperf/queries/monitor"
	"hmperf/queries/pgtest"
	"hmperf/tui/source"
)

func TestMonitorOnceJSON(t *testing.T) {
	dsn := pgtest.NewMigratedDB(t)
	sample := func() monitor.SampleResult {
		t.Helper()
		r := runCmd(context.Background(), "", "monitor", "--once", "--json", "--dsn", dsn)
		var doc monitor.SampleResult
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || r.code != 0 {
			t.Fatalf("monitor --once --json: exit %d, %v, stdout %q, stderr %q", r.code, err, r.stdout, r.stderr)
		}
		return doc
	}
	if doc := sample(); doc.Status != monitor.SampleBaseline {
		t.Fatalf("first sample: %+v, want a baseline", doc)
	}
	serviceWrite(t, dsn, 5000)
	doc := sample()
	var got *monitor.TableSample
	for i := range doc.Tables {
		if doc.Tables[i].Table == "activity_metrics_v2" {
			got = &doc.Tables[i]
		}
	}
	if doc.Status != monitor.SampleTaken || got == nil || got.Rows != 5000 || got.Throughput == nil {
		t.Fatalf("after 5,000 rows: %+v", doc)
	}
	// The test database has no pg_stat_statements: insert speed is unknown,
	// and says so, not 0.
	if doc.Statements != monitor.StatementsNotInstalled || got.InsertSpeed != nil ||
		!strings.Contains(runCmd(context.Background(), "", "monitor", "--once", "--dsn", dsn).stdout, "pg_stat_statements: not installed") {
		t.Errorf("statements %q, insert speed %v; want not installed and none", doc.Statements, got.InsertSpeed)
	}
	var rows int64
	queryRow(t, dsn, `SELECT sum(rows)::bigint FROM real_time_constraint_performance WHERE table_name = 'activity_metrics_v2'`, &rows)
	if rows != 5000 {
		t.Errorf("real_time_constraint_performance shows %d rows, want 5000", rows)
	}
}

func TestMonitorText(t *testing.T) {
	dsn := pgtest.NewMigratedDB(t)
	runCmd(context.Background(), "", "monitor", "--once", "--dsn", dsn)
	serviceWrite(t, dsn, 321)
	r := runCmd(context.Background(), "", "monitor", "--once", "--dsn", dsn)
	if r.code != 0 || !strings.Contains(r.stdout, "throughput rows/s") || !strings.Contains(r.stdout, "insert speed rows/s") {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	var line string
	for _, l := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(l, "activity_metrics_v2 ") {
			line = l
		}
	}
	if f := strings.Fields(line); len(f) < 7 || f[1] != "321" || f[len(f)-1] != "unknown" || f[len(f)-2] != "unknown" {
		t.Errorf("activity_metrics_v2 line %q: want 321 rows and unknown insert speed", line)
	}
}

// TestMonitorReadOnlyInMemory: with --read-only, monitor writes nothing,
// its samples included: it samples in memory, says so, and reports the
// service's rows written between its baseline and its sample.
func TestMonitorReadOnlyInMemory(t *testing.T) {
	dsn := pgtest.NewMigratedDB(t)
	// What a stored sample changes: the sampler's row (when it last ran,
	// what it saw) and the monitor's samples.
	const storedSQL = `SELECT (SELECT string_agg(s::text, ',') FROM hmperf.write_sampler s),
	                          (SELECT count(*) FROM constraint_performance_monitor)`
	var sampler string
	var samples int64
	queryRow(t, dsn, storedSQL, &sampler, &samples)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan result, 1)
	go func() {
		done <- runCmd(ctx, "", "monitor", "--once", "--json", "--read-only", "--interval", "3s", "--dsn", dsn)
	}()
	// The baseline is taken as the command starts; the write lands within
	// its interval.
	time.Sleep(time.Second)
	serviceWrite(t, dsn, 321)
	r := <-done
	if r.code != 0 || !strings.Contains(r.stderr, "in memory") || !strings.Contains(r.stderr, "--read-only") {
		t.Fatalf("monitor --once --read-only: exit %d, stderr %q; want a sample in memory that names --read-only", r.code, r.stderr)
	}
	var doc monitor.SampleResult
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || !doc.InMemory {
		t.Fatalf("monitor --once --read-only --json: %v, in memory %v\n%s", err, doc.InMemory, r.stdout)
	}
	for _, ts := range doc.Tables {
		if ts.Table == "activity_metrics_v2" && ts.Rows != 321 {
			t.Errorf("activity_metrics_v2: %d rows, want the service's 321", ts.Rows)
		}
	}
	var samplerAfter string
	var samplesAfter int64
	queryRow(t, dsn, storedSQL, &samplerAfter, &samplesAfter)
	if samplerAfter != sampler || samplesAfter != samples {
		t.Errorf("monitor --read-only stored a sample: sampler %q -> %q, monitor samples %d -> %d", sampler, samplerAfter, samples, samplesAfter)
	}
}

// TestDashboardSamplesAsItPolls: the Constraints poll samples, so a write by
// another client shows without any `hmperf monitor`; a --read-only
// dashboard only reads.
func TestDashboardSamplesAsItPolls(t *testing.T) {
	dsn := pgtest.NewMigratedDB(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	src := pollSource(t, dsn)
	if _, err := src.Constraints(ctx); err != nil {
		t.Fatal(err)
	}
	serviceWrite(t, dsn, 777)
	// The dashboard samples at most once a second: at its default 2 s
	// interval the rows must show by the second poll.
	var seen, observed int64
	var rows []source.ConstraintRow
	for range 2 {
		time.Sleep(2 * time.Second)
		var err error
		if rows, err = src.Constraints(ctx); err != nil {
			t.Fatal(err)
		}
		seen, observed = 0, 0
		for _, r := range rows {
			if r.Table == "activity_metrics_v2" {
				seen += r.Rows
				if r.ObservedRows != nil {
					observed += *r.ObservedRows
				}
			}
		}
	}
	if seen != 777 || observed != 777 {
		t.Errorf("Constraints two polls after an external insert of 777 rows: %d rows, %d observed", seen, observed)
	}
	// The service's speed is its own column; hmperf timed nothing, so its
	// rows/s is unknown, not 0 and not the service's insert speed.
	for _, r := range rows {
		if r.Table == "activity_metrics_v2" && (r.Throughput == nil || *r.Throughput <= 0 || r.RowsPerSec != nil || r.MsPer1000Rows != nil) {
			t.Errorf("activity_metrics_v2 %s: throughput %v, hmperf rows/s %v, ms/1k %v; want a throughput and no hmperf figures",
				r.HourBucket, r.Throughput, r.RowsPerSec, r.MsPer1000Rows)
		}
	}

	roDSN := pgtest.NewMigratedDB(t)
	ro := pollSourceOf(t, roDSN, true, 10)
	for range 2 {
		if _, err := ro.Constraints(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var sampled *time.Time
	queryRow(t, roDSN, `SELECT sampled_at FROM hmperf.write_sampler`, &sampled)
	if sampled != nil {
		t.Errorf("a read-only dashboard sampled at %s", sampled)
	}
}
