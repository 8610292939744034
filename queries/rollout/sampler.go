package rollout

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// handOverSample keeps the monitor's write samplers honest across an
// exchange, in the exchange's transaction, before the tables move. The
// samplers skip hmperf's schemas, so they first see the incoming table when
// it takes the live name, and would count every row in its counters (the
// backfill's copies, or the log applied to the original) as the service's;
// and they stop seeing the outgoing table, losing what the service wrote to
// it since their last sample. So:
//
//   - the stored sampler (hmperf.sample_writes) is handed the incoming
//     table's counters as its previous ones, less, on its top parent, what
//     the outgoing table took since its last sample;
//   - samplers that keep their state in memory are handed both tables'
//     counters in hmperf.write_handovers (migration 0038, where applied);
//   - the rows this transaction itself inserts into the incoming table
//     (the log applied under the lock) are recorded in hmperf.own_writes.
//
// The counters handed over are the published ones, which never go down:
// this transaction's own counts, published after its COMMIT, are taken
// out through its record whenever a sample sees them. Another session's
// counts not yet published reach the outgoing table after the exchange,
// where no sample sees them: hmperf's own sessions publish theirs with
// every commit (publishCounts), a service's session within a second while
// it is busy and up to ten once it goes idle.
//
// It waits for a stored sampler at work (under the session's lock_timeout,
// as the exchange's other locks).
func handOverSample(ctx context.Context, tx pgx.Tx, outgoing, incoming pgx.Identifier) error {
	fail := func(err error) error {
		return fmt.Errorf("rollout: hand %s's write counters over to the monitor's samplers: %w", incoming.Sanitize(), err)
	}
	if _, err := tx.Exec(ctx, handOverSQL, outgoing.Sanitize(), incoming.Sanitize()); err != nil {
		return fail(err)
	}
	var inMemory bool
	if err := tx.QueryRow(ctx, "SELECT to_regclass('hmperf.write_handovers') IS NOT NULL").Scan(&inMemory); err != nil {
		return fail(err)
	}
	if inMemory {
		if _, err := tx.Exec(ctx, handOverInMemorySQL, outgoing.Sanitize(), incoming.Sanitize()); err != nil {
			return fail(err)
		}
	}
	return publishCounts(ctx, tx)
}

// exchangeCounters lists every table and partition of the outgoing ($1) and
// the incoming ($2) table (a table that is not partitioned is its own
// tree) with its published counters.
const exchangeCounters = `
rels AS (
    SELECT x.side, x.relid, coalesce(pg_partition_root(x.relid), x.relid) AS root
      FROM (SELECT 'out' AS side, t.relid
              FROM unnest(coalesce((SELECT array_agg(p.relid) FROM pg_partition_tree($1::regclass) p),
                                   ARRAY[$1::regclass])) AS t(relid)
            UNION ALL
            SELECT 'in', t.relid
              FROM unnest(coalesce((SELECT array_agg(p.relid) FROM pg_partition_tree($2::regclass) p),
                                   ARRAY[$2::regclass])) AS t(relid)) x
      JOIN pg_class c ON c.oid = x.relid
     WHERE c.relkind IN ('r', 'p')
), counters AS (
    SELECT r.side, r.relid, r.root,
           pg_stat_get_tuples_inserted(r.relid) AS ins,
           pg_stat_get_tuples_updated(r.relid) AS upd,
           pg_stat_get_tuples_deleted(r.relid) AS del,
           pg_stat_get_dead_tuples(r.relid) AS dead,
           pg_stat_get_vacuum_count(r.relid) + pg_stat_get_autovacuum_count(r.relid)
               + pg_stat_get_analyze_count(r.relid) + pg_stat_get_autoanalyze_count(r.relid) AS maint,
           pg_stat_get_xact_tuples_inserted(r.relid) AS own_ins
      FROM rels r
)`

// handOverSQL hands the stored sampler over and records this
// transaction's own inserts.
const handOverSQL = `
WITH sampler AS (
    SELECT w.sampled_at FROM hmperf.write_sampler w FOR UPDATE
), ` + exchangeCounters + `, unsampled AS (
    -- The sampler's own rule: a relation it has not stored, or whose
    -- counter went down, restarted from zero.
    SELECT coalesce(sum(c.ins - CASE WHEN z.restarted THEN 0 ELSE p.n_tup_ins END), 0)::bigint AS ins,
           coalesce(sum(c.upd - CASE WHEN z.restarted THEN 0 ELSE p.n_tup_upd END), 0)::bigint AS upd,
           coalesce(sum(c.del - CASE WHEN z.restarted THEN 0 ELSE p.n_tup_del END), 0)::bigint AS del,
           coalesce(sum(c.dead - CASE WHEN z.restarted THEN 0 ELSE p.n_dead_tup END), 0)::bigint AS dead,
           coalesce(sum(c.maint - CASE WHEN z.restarted THEN 0 ELSE p.maintenance END), 0)::bigint AS maint
      FROM counters c
      LEFT JOIN hmperf.write_sample_tables p ON p.relid = c.relid
     CROSS JOIN LATERAL (SELECT p.relid IS NULL OR c.ins < p.n_tup_ins OR c.upd < p.n_tup_upd
                                OR c.del < p.n_tup_del OR c.maint < p.maintenance AS restarted) z
     WHERE c.side = 'out'
), own AS (
    INSERT INTO hmperf.own_writes (root_relid, table_name, committed, rolled_back)
    SELECT $2::regclass, $1::regclass::text, sum(c.own_ins), 0
      FROM counters c WHERE c.side = 'in'
    HAVING sum(c.own_ins) > 0
), gone AS (
    DELETE FROM hmperf.write_sample_tables p
     USING counters c
     WHERE c.side = 'out' AND p.relid = c.relid AND EXISTS (SELECT 1 FROM sampler s WHERE s.sampled_at IS NOT NULL)
)
INSERT INTO hmperf.write_sample_tables AS p (relid, root_relid, n_tup_ins, n_tup_upd, n_tup_del, n_dead_tup, maintenance)
SELECT c.relid, c.root,
       c.ins - CASE WHEN top THEN u.ins ELSE 0 END,
       c.upd - CASE WHEN top THEN u.upd ELSE 0 END,
       c.del - CASE WHEN top THEN u.del ELSE 0 END,
       c.dead - CASE WHEN top THEN u.dead ELSE 0 END,
       c.maint - CASE WHEN top THEN u.maint ELSE 0 END
  FROM counters c
 CROSS JOIN unsampled u
 CROSS JOIN LATERAL (SELECT c.relid = c.root AS top) t
 WHERE c.side = 'in' AND EXISTS (SELECT 1 FROM sampler s WHERE s.sampled_at IS NOT NULL)
ON CONFLICT (relid) DO UPDATE
   SET root_relid = excluded.root_relid, n_tup_ins = excluded.n_tup_ins, n_tup_upd = excluded.n_tup_upd,
       n_tup_del = excluded.n_tup_del, n_dead_tup = excluded.n_dead_tup, maintenance = excluded.maintenance`

// handOverInMemorySQL stores both tables' counters for the samplers that
// keep their state in memory (monitor.MemorySampler), pruning what is
// older than two hours.
const handOverInMemorySQL = `
WITH ` + exchangeCounters + `, prune AS (
    DELETE FROM hmperf.write_handovers WHERE handed_at < now() - interval '2 hours'
)
INSERT INTO hmperf.write_handovers (relid, incoming, n_tup_ins, n_tup_upd, n_tup_del, n_dead_tup, maintenance)
SELECT c.relid, c.side = 'in', c.ins, c.upd, c.del, c.dead, c.maint FROM counters c`
