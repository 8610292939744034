package migrations_test

import (
	"context"
	"fmt"
	"io/fs"
	"regexp"
	"testing"

	"github.com/jackc/pgx/v5"

	"hmperf/migrations"
	"hmperf/queries/pgtest"
)

// TestMonitoringVersion: MonitoringVersion is the first migration by which
// every object the overview reads exists: the latest of their creations.
func TestMonitoringVersion(t *testing.T) {
	t.Parallel()
	creates := map[string]*regexp.Regexp{
		"hmperf.ingest_batch_stats":             regexp.MustCompile(`(?m)^CREATE TABLE hmperf\.ingest_batch_stats\b`),
		"hmperf.benchmark_runs":                 regexp.MustCompile(`(?m)^CREATE TABLE hmperf\.benchmark_runs\b`),
		"constraint_performance_monitor":        regexp.MustCompile(`(?m)^CREATE TABLE constraint_performance_monitor\b`),
		"check_constraint_performance_alerts()": regexp.MustCompile(`(?m)^CREATE FUNCTION check_constraint_performance_alerts\(`),
	}
	list, err := migrations.List(migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	var latest uint
	for object, re := range creates {
		var at uint
		for _, m := range list {
			sql, err := fs.ReadFile(migrations.FS, fmt.Sprintf("%04d_%s.up.sql", m.Version, m.Name))
			if err != nil {
				t.Fatal(err)
			}
			if re.Match(sql) {
				at = m.Version
				break
			}
		}
		if at == 0 {
			t.Fatalf("no migration creates %s", object)
		}
		latest = max(latest, at)
	}
	if latest != migrations.MonitoringVersion {
		t.Errorf("the overview's objects all exist from migration %d; MonitoringVersion is %d", latest, migrations.MonitoringVersion)
	}
}

// TestHasSchema: hmperf's schema exists once migrated, not before.
func TestHasSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		dsn  func(testing.TB) string
		want bool
	}{{"empty", pgtest.NewDB, false}, {"migrated", pgtest.NewMigratedDB, true}} {
		conn, err := pgx.Connect(ctx, tc.dsn(t))
		if err != nil {
			t.Fatal(err)
		}
		got, err := migrations.HasSchema(ctx, conn)
		conn.Close(ctx)
		if err != nil || got != tc.want {
			t.Errorf("%s: HasSchema = %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
}
