package migrations_test

import (
	"strings"
	"testing"

	"github.com/jackc/pgerrcode"

	"hmperf/queries/pgtest"
)

// TestInterruptedStatus: 0034 stores a run left "running" by a gone owner
// as interrupted and leaves an owned one running; the CHECK then accepts
// the status; 0034 down maps interrupted back to running, which 0017's
// CHECK accepts and every reader since reads as interrupted.
func TestInterruptedStatus(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewDB(t)
	m := newMigrator(t, dsn, nil)
	conn, owner := connect(t, dsn), connect(t, dsn)
	if err := m.Goto(33); err != nil {
		t.Fatal(err)
	}
	exec(t, conn, `INSERT INTO hmperf.benchmark_runs (id, tables, rows, reps, server_version, status)
		OVERRIDING SYSTEM VALUE VALUES (1, '{symptoms}', 100, 1, 'test', 'running'), (2, '{symptoms}', 100, 1, 'test', 'running'),
		(3, '{symptoms}', 100, 1, 'test', 'done')`)
	// Run 2's owner lives: it holds the ownership lock (class "hmpb", id).
	exec(t, owner, "SELECT pg_advisory_lock(1752002658, 2)")
	statuses := func() string {
		return strings.Join(queryStrings(t, conn, "SELECT status FROM hmperf.benchmark_runs ORDER BY id"), ",")
	}
	if err := m.Goto(34); err != nil {
		t.Fatal(err)
	}
	if got := statuses(); got != "interrupted,running,done" {
		t.Errorf("after 0034: %s; want interrupted,running,done", got)
	}
	exec(t, conn, "UPDATE hmperf.benchmark_runs SET status = 'interrupted' WHERE id = 3")
	if err := m.Goto(33); err != nil {
		t.Fatal(err)
	}
	if got := statuses(); got != "running,running,running" {
		t.Errorf("after 0034 down: %s; want running,running,running", got)
	}
	if _, err := conn.Exec(testCtx(t), "UPDATE hmperf.benchmark_runs SET status = 'interrupted' WHERE id = 1"); pgErr(err) == nil || pgErr(err).Code != pgerrcode.CheckViolation {
		t.Errorf("0017's CHECK after 0034 down accepted interrupted: %v", err)
	}
}
