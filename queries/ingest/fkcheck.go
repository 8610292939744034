package ingest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"hmperf/engine"
	"hmperf/queries"
)

// Foreign-key checking. Every metric table references users(id) through
// user_id, and PostgreSQL checks that per row: an internal trigger runs
// "SELECT 1 FROM users WHERE id = $1 FOR KEY SHARE" for each inserted row,
// with an executor start-up each time. Profiled during a heart-rate ingest,
// that was about half of the server's CPU time.
//
// The per-batch check does the same work once per distinct user instead:
// it locks the batch's users FOR KEY SHARE (the lock the trigger takes,
// held to commit, so a concurrent DELETE waits and then cascades as it
// would), checks that every one of them was found, and only then skips the
// per-row triggers for the metric writes with
// SET LOCAL session_replication_role = replica, switching back before
// anything else is written. Where any condition fails it leaves PostgreSQL's
// own checks in place:
//   - the role may not set session_replication_role (superuser, or
//     GRANT SET ON PARAMETER from PostgreSQL 15);
//   - a table (or a partition of it) has a user trigger or rule that replica
//     mode would skip or fire differently, or a foreign key other than
//     user_id → users(id);
//   - a user of the batch is missing when locked (deleted meanwhile): the
//     batch then goes through the triggers, which reject those rows.

// FKCheck says how an ingest run checked the metric rows' foreign key.
type FKCheck struct {
	// Batch lists the tables checked per batch; the others per row.
	Batch []string `json:"per_batch_tables"`
	// Reason says why some or all tables are checked per row, if any are.
	Reason string `json:"per_row_reason,omitempty"`
}

// fkPlan is the per-table decision, made once per Ingester. It is only a
// first answer: each batch checks its tables again inside its own
// transaction (Ingester.batchChecked), so a trigger created during a long
// ingest is honoured from the next batch on.
type fkPlan struct {
	mu      sync.Mutex
	decided bool
	batch   [engine.NumKinds]bool
	reason  string
}

// decide works out which kinds' tables may use the per-batch check. An
// error (a lost connection, a timeout) is returned and not kept: the next
// batch decides again.
func (f *fkPlan) decide(ctx context.Context, db queries.DBTX, rowChecks bool, lay *layout) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.decided {
		return nil
	}
	batch, reason, err := planFK(ctx, db, rowChecks, lay)
	if err != nil {
		return err
	}
	f.batch, f.reason, f.decided = batch, reason, true
	return nil
}

// planFK is decide's answer: which kinds' tables may be checked per batch,
// and why the others may not.
func planFK(ctx context.Context, db queries.DBTX, rowChecks bool, lay *layout) (batch [engine.NumKinds]bool, reason string, err error) {
	if rowChecks {
		return batch, "per-row checks requested", nil
	}
	if err := queries.CanSkipTriggers(ctx, db); err != nil {
		return batch, "the role may not set session_replication_role (" + queries.Plain(err) + ")", nil
	}
	var other []string
	for _, k := range engine.Kinds() {
		tbl := lay.tables[k]
		if tbl == nil {
			continue // no table: its records are unsupported
		}
		ok, err := batchCheckable(ctx, db, tbl.m.Table.OID, lay.users.Table.OID)
		if err != nil {
			return batch, "", fmt.Errorf("inspect %s for the foreign-key check: %w", tbl.name, err)
		}
		batch[k] = ok
		if !ok {
			other = append(other, tbl.name)
		}
	}
	if len(other) > 0 {
		reason = "user triggers, rules or other foreign keys on " + strings.Join(other, ", ")
	}
	return batch, reason, nil
}

// eligible reports whether kind k's table passed the first check.
func (f *fkPlan) eligible(k engine.Kind) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.batch[k]
}

// report is the run's FKCheck.
func (f *fkPlan) report() FKCheck {
	f.mu.Lock()
	defer f.mu.Unlock()
	var c FKCheck
	for _, k := range engine.Kinds() {
		if f.batch[k] {
			c.Batch = append(c.Batch, k.Table())
		}
	}
	c.Reason = f.reason
	return c
}

// batchCheckable reports whether replica mode changes nothing on table and
// its partitions but the foreign-key triggers of user_id → users(id): no
// user trigger that fires on insert in origin mode or only in replica mode,
// no rule, no other foreign key.
func batchCheckable(ctx context.Context, db queries.DBTX, table, users uint32) (bool, error) {
	var ok bool
	err := db.QueryRow(ctx, batchCheckableSQL, table, users).Scan(&ok)
	return ok, err
}

// batchCheckableSQL looks each relation of the tree up in the catalogues'
// indexes on the relation (EXISTS under OR stay correlated subplans), so its
// cost grows with the table's own partitions only. Joining the tree to the
// catalogues instead let the planner compare every partition with every
// user trigger of the database: with a trigger cloned to every partition of
// some table, that grew as the square of the months kept, on every batch.
const batchCheckableSQL = `
	WITH rels AS (SELECT $1::regclass AS relid  -- a plain table is no partition tree
	              UNION SELECT relid FROM pg_partition_tree($1::regclass))
	SELECT NOT EXISTS (
	         SELECT 1 FROM rels
	          WHERE EXISTS (SELECT 1 FROM pg_trigger t
	                         WHERE t.tgrelid = rels.relid AND NOT t.tgisinternal
	                           AND (t.tgenabled = 'R' OR (t.tgenabled = 'O' AND t.tgtype & 4 <> 0)))
	             OR EXISTS (SELECT 1 FROM pg_rewrite r
	                         WHERE r.ev_class = rels.relid AND r.rulename <> '_RETURN')
	             OR EXISTS (SELECT 1 FROM pg_constraint c
	                         WHERE c.conrelid = rels.relid AND c.contype = 'f'
	                           AND (c.confrelid <> $2::regclass
	                                OR c.conkey <> ARRAY[(SELECT a.attnum FROM pg_attribute a
	                                                       WHERE a.attrelid = c.conrelid AND a.attname = 'user_id')])))`

// batchUsers lists the distinct users of the groups, sorted.
func batchUsers(groups []*group) []engine.UUID {
	seen := map[engine.UUID]struct{}{}
	var out []engine.UUID
	for _, g := range groups {
		for _, r := range g.keep {
			u := r.UserID()
			if _, dup := seen[u]; !dup {
				seen[u] = struct{}{}
				out = append(out, u)
			}
		}
	}
	slices.SortFunc(out, compareUUID)
	return out
}
