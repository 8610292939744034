package migrations_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/queries/pgtest"
)

// TestIngestBlockerThresholds: 0037's thresholds hold the defaults.
func TestIngestBlockerThresholds(t *testing.T) {
	t.Parallel()
	conn := connect(t, pgtest.NewMigratedDB(t))
	got := queryStrings(t, conn, `
		SELECT alert_name || ' ' || metric || ' ' || comparison || ' ' || threshold || ' ' || severity
		  FROM constraint_alert_thresholds
		 WHERE metric IN ('idle_in_transaction_seconds', 'lock_wait_seconds', 'connections_pct', 'xid_age_pct')
		 ORDER BY alert_name`)
	want := []string{
		"connections_critical connections_pct > 90 CRITICAL",
		"connections_warning connections_pct > 75 WARNING",
		"idle_in_transaction_critical idle_in_transaction_seconds > 900 CRITICAL",
		"idle_in_transaction_warning idle_in_transaction_seconds > 300 WARNING",
		"lock_wait_critical lock_wait_seconds > 120 CRITICAL",
		"lock_wait_warning lock_wait_seconds > 30 WARNING",
		"xid_wraparound_critical xid_age_pct > 75 CRITICAL",
		"xid_wraparound_warning xid_age_pct > 50 WARNING",
	}
	if !slices.Equal(got, want) {
		t.Errorf("thresholds\n%q\nwant\n%q", got, want)
	}
}

// labelled connects to dsn as application name.
func labelled(t *testing.T, dsn, name string) *pgx.Conn {
	t.Helper()
	return pgtest.Connect(t, dsn, name)
}

// TestIngestBlockerAlerts fires each new alert from real sessions, with
// thresholds lowered through the table (no five-minute sleeps): a
// service session idle in transaction, one waiting behind its lock, the
// connection count and the xid age. hmperf's own idle session fires
// nothing; a threshold the observation stays under fires nothing.
func TestIngestBlockerAlerts(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewMigratedDB(t)
	conn := connect(t, dsn)
	ctx := context.Background()
	idle, waiter, own := labelled(t, dsn, "service"), labelled(t, dsn, "service writer"), labelled(t, dsn, "hmperf ingest")
	exec(t, conn, `CREATE TABLE blocked_t (v int)`)
	exec(t, idle, `BEGIN`)
	exec(t, idle, `LOCK TABLE blocked_t IN ACCESS EXCLUSIVE MODE`)
	exec(t, own, `BEGIN`)
	exec(t, own, `SELECT 1`)
	done := make(chan error, 1)
	go func() {
		_, err := waiter.Exec(ctx, `INSERT INTO blocked_t VALUES (1)`)
		done <- err
	}()
	t.Cleanup(func() {
		exec(t, idle, `ROLLBACK`)
		<-done
	})
	exec(t, conn, `UPDATE constraint_alert_thresholds SET threshold = CASE alert_name
		WHEN 'idle_in_transaction_warning' THEN 0.5 WHEN 'lock_wait_warning' THEN 0.5
		WHEN 'connections_warning' THEN 0 WHEN 'xid_wraparound_warning' THEN -1
		ELSE 1e9 END
		WHERE metric IN ('idle_in_transaction_seconds', 'lock_wait_seconds', 'connections_pct', 'xid_age_pct')`)
	var idlePID, waiterPID, ownPID int
	for c, p := range map[*pgx.Conn]*int{idle: &idlePID, waiter: nil, own: &ownPID} {
		if p != nil {
			*p = int(queryInt(t, c, `SELECT pg_backend_pid()`))
		}
	}
	waiterPID = int(queryInt(t, conn, `SELECT pid FROM pg_stat_activity WHERE application_name = 'service writer'`))
	var got []string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		got = queryStrings(t, conn, `
			SELECT alert_name || ' ' || severity || ' ' || table_name
			  FROM check_constraint_performance_alerts()
			 WHERE alert_name ~ '^(idle_in|lock_wait|connections|xid_wrap)' AND table_name !~ '^database '
			    OR alert_name = 'xid_wraparound_warning' AND table_name = 'database ' || current_database()
			 ORDER BY 1`)
		if len(got) == 4 {
			break
		}
	}
	want := []string{
		"connections_warning WARNING server",
		fmt.Sprintf("idle_in_transaction_warning WARNING session %d (service)", idlePID),
		fmt.Sprintf("lock_wait_warning WARNING session %d (service writer)", waiterPID),
		"xid_wraparound_warning WARNING database " + queryStrings(t, conn, `SELECT current_database()`)[0],
	}
	if !slices.Equal(got, want) {
		t.Errorf("alerts\n%q\nwant\n%q (hmperf's own idle session %d must not fire)", got, want, ownPID)
	}
	// firing_since is when the wait crossed its threshold, not now.
	time.Sleep(time.Second)
	if n := queryInt(t, conn, `SELECT count(*) FROM check_constraint_performance_alerts()
		WHERE alert_name = 'lock_wait_warning' AND firing_since < now() - interval '0.5 second'`); n != 1 {
		t.Errorf("lock wait alert firing since now, want since its wait crossed 0.5 s")
	}
}
