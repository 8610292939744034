package main

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/cmd/internal/dashsource"
	"hmperf/queries/pgtest"
	"hmperf/tui/source"
)

// dashSource opens the dashboard's data source on dsn with --read-only.
func dashSource(t *testing.T, ctx context.Context, dsn string) *dashsource.DB {
	t.Helper()
	tg, err := resolveTarget(ctx, connFlags{dsn: dsn, connectTimeout: 10 * time.Second, readOnly: true}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tg.Close)
	pool, err := tg.Pool(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return newDBSource(tg, pool, dashboardOpts{benchRows: 50, benchReps: 1, sampleRate: 10})
}

// serverRow is the Servers panel's row of the one server src reads.
func serverRow(t *testing.T, ctx context.Context, src *dashsource.DB) source.Server {
	t.Helper()
	got, err := dashsource.NewFleet([]string{"s"}, []*dashsource.DB{src}).Servers(ctx)
	if err != nil || len(got) != 1 {
		t.Fatalf("Servers: %d rows, %v", len(got), err)
	}
	return got[0]
}

// panelPolls are the dashboard's polls that read hmperf's objects.
func panelPolls(src *dashsource.DB) map[string]func(context.Context) error {
	return map[string]func(context.Context) error{
		"Constraints": func(ctx context.Context) error { _, err := src.Constraints(ctx); return err },
		"Alerts":      func(ctx context.Context) error { _, err := src.Alerts(ctx); return err },
		"Indexes":     func(ctx context.Context) error { _, err := src.Indexes(ctx); return err },
		"Benchmarks":  func(ctx context.Context) error { _, err := src.Benchmarks(ctx); return err },
		"Ingest":      func(ctx context.Context) error { _, err := src.Ingest(ctx); return err },
	}
}

// TestDashboardOnBareDatabase: on a database without hmperf's schema the
// data source answers every panel that reads hmperf's objects with a
// *source.ErrMissing naming the object and the command that adds it, and
// the overview loads with the alerts UNKNOWN and why. Where another tool
// (sqlx) keeps the schema's version, the command is adopt first.
func TestDashboardOnBareDatabase(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dsn := pgtest.NewDB(t)
	for _, c := range []struct {
		name, setup, fix string
	}{
		{"empty", "", "hmperf migrate up"},
		{"another tool's", "CREATE TABLE _sqlx_migrations (version bigint PRIMARY KEY)", "hmperf migrate adopt"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.setup != "" {
				dbExec(t, dsn, c.setup)
			}
			src := dashSource(t, ctx, dsn)
			for name, poll := range panelPolls(src) {
				err := poll(ctx)
				var missing *source.ErrMissing
				if !errors.As(err, &missing) || missing.Fix != c.fix || missing.Denied || !strings.Contains(missing.Object, "does not exist") {
					t.Errorf("%s: %#v (%v); want *source.ErrMissing with fix %q", name, err, err, c.fix)
				}
			}
			ov, err := src.Overview(ctx)
			if err != nil {
				t.Fatalf("Overview: %v", err)
			}
			if !strings.Contains(ov.AlertsUnknown, "check_constraint_performance_alerts") || !strings.Contains(ov.AlertsUnknown, c.fix) ||
				ov.CriticalAlerts+ov.WarningAlerts != 0 {
				t.Errorf("Overview alerts: unknown %q, %d critical, %d warning; want UNKNOWN naming the function and %q",
					ov.AlertsUnknown, ov.CriticalAlerts, ov.WarningAlerts, c.fix)
			}
			if _, err := src.Migrations(ctx); err != nil {
				t.Errorf("Migrations: %v", err)
			}
			// The Servers panel needs nothing of hmperf's: the server is
			// read, and its alerts are UNKNOWN, never "none".
			if row := serverRow(t, ctx, src); row.Err != "" || row.Role != "primary" ||
				!strings.Contains(row.AlertsUnknown, "check_constraint_performance_alerts") || row.Critical+row.Warning != 0 {
				t.Errorf("Servers: %+v; want the primary read, its alerts UNKNOWN naming the function", row)
			}
		})
	}
}

// TestDashboardPrivilegeRefused: a role that may connect but read nothing
// of hmperf's gets *source.ErrMissing marked Denied, pointing at the
// monitoring role's grants, and the overview says the alerts are UNKNOWN.
func TestDashboardPrivilegeRefused(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dsn := pgtest.NewMigratedDB(t)
	roDSN := newRole(t, dsn)
	dbExec(t, dsn, "REVOKE EXECUTE ON FUNCTION check_constraint_performance_alerts() FROM PUBLIC")
	src := dashSource(t, ctx, roDSN)
	for name, poll := range panelPolls(src) {
		err := poll(ctx)
		var missing *source.ErrMissing
		if !errors.As(err, &missing) || !missing.Denied || missing.Fix != dashsource.MonitoringRoleFix {
			t.Errorf("%s: %v; want *source.ErrMissing, denied, with the monitoring role's fix", name, err)
		}
	}

	// With the tables readable, only the alert check is refused: the
	// overview loads and says why the alerts are UNKNOWN.
	cfg, err := pgx.ParseConfig(roDSN)
	if err != nil {
		t.Fatal(err)
	}
	role := pgx.Identifier{cfg.User}.Sanitize()
	dbExec(t, dsn, "GRANT USAGE ON SCHEMA hmperf TO "+role)
	dbExec(t, dsn, "GRANT SELECT ON ALL TABLES IN SCHEMA public, hmperf TO "+role)
	ov, err := src.Overview(ctx)
	if err != nil || !strings.Contains(ov.AlertsUnknown, "permission denied for function check_constraint_performance_alerts") ||
		ov.CriticalAlerts+ov.WarningAlerts != 0 {
		t.Errorf("Overview: %v, alerts unknown %q; want UNKNOWN for the refused check", err, ov.AlertsUnknown)
	}
	if _, err := src.Constraints(ctx); err != nil {
		t.Errorf("Constraints with SELECT granted: %v", err)
	}
}
