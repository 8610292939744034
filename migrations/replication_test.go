package migrations_test

import (
	"testing"

	"hmperf/queries/pgtest"
)

// TestReplicationLagThresholds: 0030's lag thresholds hold the defaults
// (WARNING 30 s / 64 MB, CRITICAL 300 s / 1 GB), and on a server without
// standbys the alert function, run in a read-only transaction as on a
// replica, fires no lag alert even with every lag threshold below zero.
func TestReplicationLagThresholds(t *testing.T) {
	t.Parallel()
	conn := connect(t, pgtest.NewMigratedDB(t))
	got := queryStrings(t, conn, `
		SELECT alert_name || ' ' || metric || ' ' || comparison || ' ' || threshold || ' ' || severity
		  FROM constraint_alert_thresholds WHERE metric LIKE 'replication_lag_%' ORDER BY alert_name`)
	want := []string{
		"replication_lag_bytes_critical replication_lag_bytes > 1073741824 CRITICAL",
		"replication_lag_bytes_warning replication_lag_bytes > 67108864 WARNING",
		"replication_lag_seconds_critical replication_lag_seconds > 300 CRITICAL",
		"replication_lag_seconds_warning replication_lag_seconds > 30 WARNING",
	}
	if len(got) != len(want) {
		t.Fatalf("lag thresholds %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("threshold %d = %q, want %q", i, got[i], want[i])
		}
	}
	exec(t, conn, `UPDATE constraint_alert_thresholds SET threshold = -1 WHERE metric LIKE 'replication_lag_%'`)
	exec(t, conn, `BEGIN READ ONLY`)
	if n := queryInt(t, conn, `SELECT count(*) FROM check_constraint_performance_alerts() WHERE alert_name LIKE 'replication_lag_%'`); n != 0 {
		t.Errorf("%d lag alerts on a server without standbys", n)
	}
	exec(t, conn, `ROLLBACK`)
}
