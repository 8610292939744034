package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/queries/pgtest"
	"hmperf/tui/source"
)

// TestDashboardIngestTarget: the Ingest poll says where i writes (the
// sandbox on an adopted service database, the live tables on hmperf's own),
// and the rows land there.
func TestDashboardIngestTarget(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, tt := range []struct {
		name   string
		dsn    func(t *testing.T) string
		want   source.WriteTarget
		filled string // a table the ingest fills
		kept   string // a table it must leave empty
	}{
		{"adopted service database", func(t *testing.T) string { return serviceDSN(t, true) }, source.TargetSandbox,
			"hmperf_sandbox.heart_rate_metrics", "public.heart_rate_metrics"},
		{"hmperf's own database", func(t *testing.T) string { return pgtest.NewMigratedDB(t) }, source.TargetLive, "public.heart_rate_metrics", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dsn := tt.dsn(t)
			src := pollSource(t, dsn)
			st, err := src.Ingest(ctx)
			if err != nil || st.SampleTarget != tt.want || st.SampleFailed != "" {
				t.Fatalf("Ingest: target %v, failed %q, err %v; want %v", st.SampleTarget, st.SampleFailed, err, tt.want)
			}
			if err := src.StartIngest(ctx); err != nil {
				t.Fatal(err)
			}
			defer src.StopIngest()
			waitRows(t, dsn, tt.filled)
			if tt.kept != "" {
				if n := rowCount(t, dsn, tt.kept); n != 0 {
					t.Errorf("%s holds %d rows after a sample ingest into the sandbox", tt.kept, n)
				}
			}
		})
	}
}

// TestDashboardIngestDies: a sample ingest whose batches fail for good ends
// and the Ingest poll reports its error; stopping clears it.
func TestDashboardIngestDies(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dsn := serviceDSN(t, true)
	src := pollSource(t, dsn)
	if err := src.StartIngest(ctx); err != nil {
		t.Fatal(err)
	}
	defer src.StopIngest()
	waitRows(t, dsn, "hmperf_sandbox.heart_rate_metrics")
	// The twin loses a column the ingest writes: every later batch fails
	// the same way.
	execSQL(t, dsn, `ALTER TABLE hmperf_sandbox.heart_rate_metrics RENAME COLUMN heart_rate TO heart_rate_gone`)
	var failed string
	for deadline := time.Now().Add(20 * time.Second); failed == "" && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		st, err := src.Ingest(ctx)
		if err != nil {
			t.Fatal(err)
		}
		failed = st.SampleFailed
	}
	if !strings.Contains(failed, "heart_rate") {
		t.Fatalf("the ingest did not die with its error: %q", failed)
	}
	if err := src.StopIngest(); err != nil {
		t.Fatal(err)
	}
	if st, err := src.Ingest(ctx); err != nil || st.SampleFailed != "" {
		t.Errorf("after stop: failed %q, err %v", st.SampleFailed, err)
	}
}

// waitRows waits until table holds a row.
func waitRows(t *testing.T, dsn, table string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if rowCount(t, dsn, table) > 0 {
			return
		}
	}
	t.Fatalf("%s stayed empty", table)
}

// execSQL runs one statement on a connection of its own.
func execSQL(t *testing.T, dsn, sql string, args ...any) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}
