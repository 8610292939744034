// Package rollout moves a live table to its optimized layout while the
// service writes it, in the shadow-table pattern: a twin derived from the
// live catalogue (twin.go), change capture by a trigger into a log of
// hmperf's (capture.go), a batched keyset backfill that throttles
// (backfill.go), verification by count and checksum (verify.go), a swap of
// the two tables under a bounded lock, and a way back until finish
// (swap.go). Every step keeps its state in hmperf.rollouts (migration
// 0035), so a killed step resumes where it stopped.
//
// The optimization a rollout applies is read from the live table, never
// from hmperf's migrations: a text column whose CHECK allows a list of
// values becomes an enum of exactly those values (the symptoms design,
// with the live list, which differs from the report's); a numeric column
// whose CHECK is a range gets a domain over its live type with that range
// and the other CHECKs become one validation function (nutrition_metrics);
// the CHECKs other than lists become one validation function
// (activity_metrics_v2) (validate.go). What the twin cannot carry is
// planned and refused, with the reason.
package rollout

import (
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"hmperf/queries/lockwait"
)

// Schemas of migration 0035: the twin before the swap, the original after.
const (
	NewSchema = "hmperf_rollout_new"
	OldSchema = "hmperf_rollout_old"
)

// Tables lists the tables a rollout knows, in the report's order.
var Tables = []string{"nutrition_metrics", "symptoms", "activity_metrics_v2"}

// Phases of a rollout, as hmperf.rollouts.phase holds them.
const (
	PhaseStarted  = "started"
	PhaseSwapped  = "swapped"
	PhaseReverted = "reverted"
	PhaseFinished = "finished"
)

// ErrNoRollout is returned (wrapped) when a step needs a rollout in flight
// for the table and there is none.
var ErrNoRollout = errors.New("no rollout in flight")

// Runner runs the steps of rollouts on one database. Pool needs at least
// two connections: one for the step, one to read who blocks it.
type Runner struct {
	Pool *pgxpool.Pool
	// Lock is how DDL on the service's tables retries after its
	// lock_timeout fired.
	Lock lockwait.Policy
}

// checkTable refuses a table the rollout does not know.
func checkTable(name string) error {
	for _, t := range Tables {
		if t == name {
			return nil
		}
	}
	return fmt.Errorf("rollout: unknown table %q (want %s)", name, strings.Join(Tables, ", "))
}

// names are the objects of hmperf's that one rollout of table uses.
type names struct {
	schema, table string
}

func (n names) live() pgx.Identifier { return pgx.Identifier{n.schema, n.table} }
func (n names) twin() pgx.Identifier { return pgx.Identifier{NewSchema, n.table} }
func (n names) old() pgx.Identifier  { return pgx.Identifier{OldSchema, n.table} }
func (n names) log() pgx.Identifier {
	return pgx.Identifier{"hmperf", trim("rollout_log_"+n.table, 63)}
}
func (n names) quarantine() pgx.Identifier {
	return pgx.Identifier{"hmperf", trim("rollout_quarantine_"+n.table, 63)}
}

// captureFunc is the trigger function that logs the changes of direction
// ("forward": live to twin, "reverse": after the swap).
func (n names) captureFunc(direction string) pgx.Identifier {
	return pgx.Identifier{"hmperf", trim("rollout_capture_"+direction+"_"+n.table, 63)}
}

// captureTrigger names the capture trigger on the table being written.
const captureTrigger = "hmperf_rollout_capture"

func trim(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// qualified renders schema.name for messages.
func (n names) String() string { return n.schema + "." + n.table }
