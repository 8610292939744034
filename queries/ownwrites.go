package queries

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
)

// OwnWrite is what one of hmperf's transactions wrote to one table: Table
// names it as SQL (a sanitized, schema-qualified identifier), Committed is
// the rows it inserted that commit with it.
type OwnWrite struct {
	Table     string
	Committed int64
}

// recordOwnWrites inserts into hmperf.own_writes, per table written (summed
// over its partitions, under the top parent), the rows the transaction
// committed and those it inserted and rolled back, as the statistics will
// show them to the sampler. Its own counters (on every leaf partition;
// pg_partition_tree lists nothing for a table that is not partitioned)
// give every row it inserted and deleted. A deleted row was inserted by the
// same transaction: an INSERT ... ON CONFLICT DO NOTHING that lost a race
// with another inserter of the key counts its row as inserted, then
// deleted, and leaves it dead as a committed delete does, so the sampler
// counts it among the committed rows although no RETURNING names it.
// Committed rows are therefore the caller's count plus the deleted ones;
// rolled-back rows the rest. Tables in hmperf's own schemas are left out:
// they are never the service's. Rows older than two hours go: no sampler
// looks that far back.
const recordOwnWrites = `
WITH prune AS (
    DELETE FROM hmperf.own_writes WHERE written_at < now() - interval '2 hours'
), w AS (
    SELECT t.root, sum(c.committed)::bigint AS committed
      FROM unnest($1::text[], $2::bigint[]) AS c(name, committed)
     CROSS JOIN LATERAL (SELECT coalesce(pg_partition_root(to_regclass(c.name)), to_regclass(c.name))::oid AS root) t
     WHERE t.root IS NOT NULL
     GROUP BY 1
), x AS (
    SELECT w.root, w.committed, n.inserted, n.deleted
      FROM w
     CROSS JOIN LATERAL (
           SELECT coalesce(sum(pg_stat_get_xact_tuples_inserted(l.relid)), 0)::bigint AS inserted,
                  coalesce(sum(pg_stat_get_xact_tuples_deleted(l.relid)), 0)::bigint AS deleted
             FROM unnest(coalesce((SELECT array_agg(p.relid) FROM pg_partition_tree(w.root) p WHERE p.isleaf),
                                  ARRAY[w.root::regclass])) AS l(relid)) n
     WHERE NOT coalesce(hmperf.write_sampling_skips(w.root), true)
), ins AS (
    INSERT INTO hmperf.own_writes (root_relid, table_name, committed, rolled_back)
    SELECT x.root, x.root::regclass::text, c.committed, greatest(x.inserted - c.committed, 0)
      FROM x
     CROSS JOIN LATERAL (SELECT least(x.committed + x.deleted, greatest(x.inserted, x.committed)) AS committed) c
     WHERE x.committed > 0 OR x.inserted > 0
)
SELECT current_setting('server_version_num')::int`

// RecordOwnWrites records in hmperf.own_writes what the transaction db is
// in wrote to the tables of writes, so that the write sampler counts none
// of it as the service's (migration 0032). Call it last before COMMIT, or
// after rolling the writes back to a savepoint (every Committed then 0):
// the transaction's counters then hold every row it inserted, rolled back
// or not. Tables named twice are summed.
func RecordOwnWrites(ctx context.Context, db DBTX, writes []OwnWrite) error {
	if len(writes) == 0 {
		return nil
	}
	names := make([]string, 0, len(writes))
	counts := make([]int64, 0, len(writes))
	for _, w := range writes {
		names = append(names, w.Table)
		counts = append(counts, w.Committed)
	}
	var version int
	if err := db.QueryRow(ctx, recordOwnWrites, names, counts).Scan(&version); err != nil {
		return fmt.Errorf("record hmperf's own writes to %v in hmperf.own_writes: %w", slices.Compact(slices.Sorted(slices.Values(names))), err)
	}
	if version < 150000 {
		return nil // statistics go through the collector, with its own delay
	}
	// The transaction's counters then reach shared memory before its
	// COMMIT returns, not up to seconds later: a sampler that sees this
	// record sees the rows in the statistics too, and never takes them out
	// of what the service wrote meanwhile.
	if _, err := db.Exec(ctx, "SELECT pg_stat_force_next_flush()"); err != nil {
		return fmt.Errorf("flush hmperf's own write counters: %w", err)
	}
	return nil
}

// HasOwnWrites reports whether the schema records hmperf's own writes
// (migration 0032 applied).
func HasOwnWrites(ctx context.Context, db DBTX) (bool, error) {
	var ok bool
	err := db.QueryRow(ctx, `SELECT to_regclass('hmperf.own_writes') IS NOT NULL`).Scan(&ok)
	return ok, err
}

// RollBackRecorded ends a transaction whose writes hmperf does not keep (a
// measurement, a batch that failed): it rolls tx back to savepoint, taken
// before the writes, records every row the transaction inserted into
// tables as rolled back (the counters keep what the rolled-back part
// inserted), and commits that record alone. tx is over either way.
func RollBackRecorded(ctx context.Context, tx pgx.Tx, savepoint string, tables []string) error {
	defer Rollback(tx)
	if _, err := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT "+pgx.Identifier{savepoint}.Sanitize()); err != nil {
		return fmt.Errorf("roll back to savepoint %s: %w", savepoint, err)
	}
	writes := make([]OwnWrite, len(tables))
	for i, t := range tables {
		writes[i] = OwnWrite{Table: t}
	}
	if err := RecordOwnWrites(ctx, tx, writes); err != nil {
		return err
	}
	return tx.Commit(ctx)
}
