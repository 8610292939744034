package monitor

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/queries"
)

// storeNeeds are the privileges that let a role store its samples with
// hmperf.sample_writes(): the sampler's row it locks and updates first,
// and the function.
var storeNeeds = []queries.Privilege{
	{Kind: "TABLE", Object: "hmperf.write_sampler", Privilege: "UPDATE"},
	{Kind: "FUNCTION", Object: "hmperf.sample_writes(boolean)", Privilege: "EXECUTE"},
}

// CanStore returns nil when the session's role may store samples in
// hmperf's tables (Sample), else a *queries.PrivilegeError naming the first
// privilege it lacks: such a role samples in memory (MemorySampler).
func CanStore(ctx context.Context, db queries.DBTX) error {
	return queries.Require(ctx, db, "storing monitor samples", storeNeeds)
}

// MemorySampler samples the service's writes as Sample does, for a role
// that may not write hmperf's tables (the README's monitoring role): it
// keeps the previous counters in memory, so a sample is the deltas since
// this sampler's own previous one, and stores nothing. pg_stat_statements
// is not read: insert speeds stay unknown.
type MemorySampler struct {
	at     time.Time
	leaves map[uint32]leafCounters
	// seen are the hmperf.own_writes rows already taken into account;
	// pending what hmperf wrote that the statistics did not show yet.
	seen    map[int64]bool
	pending map[string]*ownPending
}

// leafCounters are one table's or partition's counters.
type leafCounters struct {
	root                   string
	ins, upd, del, dead, m int64
}

// ownPending is what hmperf wrote to a table and no sample matched yet.
type ownPending struct {
	committed, rolledBack int64
	since                 time.Time
}

// StatementsInMemory is SampleResult.Statements of a MemorySampler.
const StatementsInMemory = "not read when sampling in memory"

// memoryCounters reads every table's counters as hmperf.sample_writes()
// does, with the same tables left out (hmperf's schemas, its scratch
// copies and the report's monitoring tables, as hmperf.write_sampling_skips
// says), using only
// functions every role may call.
const memoryCounters = `
SELECT c.oid, coalesce(pg_partition_root(c.oid), c.oid)::regclass::text,
       pg_stat_get_tuples_inserted(c.oid), pg_stat_get_tuples_updated(c.oid), pg_stat_get_tuples_deleted(c.oid),
       pg_stat_get_dead_tuples(c.oid),
       pg_stat_get_vacuum_count(c.oid) + pg_stat_get_autovacuum_count(c.oid)
       + pg_stat_get_analyze_count(c.oid) + pg_stat_get_autoanalyze_count(c.oid)
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_class r ON r.oid = pg_partition_root(c.oid)
  LEFT JOIN pg_namespace rn ON rn.oid = r.relnamespace
 WHERE c.relkind IN ('r', 'p') AND c.relpersistence = 'p'
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname !~ '^(pg_toast|hmperf$|hmperf_)'
   AND coalesce(r.relname, c.relname) NOT LIKE 'hmperf\_scratch\_%'
   AND NOT (coalesce(rn.nspname, n.nspname) = 'public'
            AND coalesce(r.relname, c.relname) IN ('constraint_performance_monitor', 'constraint_alert_thresholds',
                                                   'index_creation_strategy', 'deferred_index_creation'))`

// Sample takes one sample: a baseline the first time, else the deltas
// since the previous one, hmperf's own writes taken out.
func (m *MemorySampler) Sample(ctx context.Context, db queries.DBTX) (SampleResult, error) {
	now := time.Now()
	// hmperf's records first: a writer flushes its counters before its
	// COMMIT returns, so the counters read after a record hold its rows.
	own, err := readOwnWrites(ctx, db)
	if err != nil {
		return SampleResult{}, fmt.Errorf("sample the service's writes in memory: %w", err)
	}
	leaves, err := readLeaves(ctx, db)
	if err != nil {
		return SampleResult{}, fmt.Errorf("sample the service's writes in memory: %w", err)
	}
	r := SampleResult{SampledAt: now, Statements: StatementsInMemory, InMemory: true}
	if m.leaves == nil {
		m.at, m.leaves, m.seen, m.pending = now, leaves, map[int64]bool{}, map[string]*ownPending{}
		for _, o := range own {
			m.seen[o.id] = true
		}
		r.Status = SampleBaseline
		return r, nil
	}
	m.addPending(own, now)
	var handed map[uint32]handover
	if changed(m.leaves, leaves) {
		if handed, err = readHandovers(ctx, db); err != nil {
			return SampleResult{}, fmt.Errorf("sample the service's writes in memory: read what rollouts handed over: %w", err)
		}
	}
	secs := now.Sub(m.at).Seconds()
	r.Status, r.IntervalSeconds = SampleTaken, &secs
	for _, ts := range m.match(deltas(m.leaves, leaves, handed), now) {
		ts.speeds(r.IntervalSeconds)
		r.Tables = append(r.Tables, ts)
	}
	m.at, m.leaves = now, leaves
	return r, nil
}

func readLeaves(ctx context.Context, db queries.DBTX) (map[uint32]leafCounters, error) {
	rows, err := db.Query(ctx, memoryCounters)
	if err != nil {
		return nil, err
	}
	out := map[uint32]leafCounters{}
	var oid uint32
	var c leafCounters
	_, err = pgx.ForEachRow(rows, []any{&oid, &c.root, &c.ins, &c.upd, &c.del, &c.dead, &c.m}, func() error {
		out[oid] = c
		return nil
	})
	return out, err
}

// ownWrite is one row of hmperf.own_writes.
type ownWrite struct {
	id                    int64
	table                 string
	committed, rolledBack int64
}

// readOwnWrites reads hmperf.own_writes (nothing on a schema older than
// 0032, where hmperf did not record them).
func readOwnWrites(ctx context.Context, db queries.DBTX) ([]ownWrite, error) {
	ok, err := queries.HasOwnWrites(ctx, db)
	if err != nil || !ok {
		return nil, err
	}
	rows, err := db.Query(ctx, `SELECT id, root_relid::regclass::text, committed, rolled_back FROM hmperf.own_writes`)
	if err != nil {
		return nil, err
	}
	var out []ownWrite
	var o ownWrite
	_, err = pgx.ForEachRow(rows, []any{&o.id, &o.table, &o.committed, &o.rolledBack}, func() error {
		out = append(out, o)
		return nil
	})
	return out, err
}

// addPending adds the own writes not seen before to what is pending. Only
// the rows still in the table are remembered: the rest were pruned and
// cannot come back.
func (m *MemorySampler) addPending(own []ownWrite, now time.Time) {
	seen := make(map[int64]bool, len(own))
	defer func() { m.seen = seen }()
	for _, o := range own {
		seen[o.id] = true
		if m.seen[o.id] {
			continue
		}
		p := m.pending[o.table]
		if p == nil {
			p = &ownPending{since: now}
			m.pending[o.table] = p
		}
		p.committed += o.committed
		p.rolledBack += o.rolledBack
	}
}

// deltas sums each table's growth between two reads of its partitions,
// splitting off the rolled-back rows as hmperf.sample_writes() does: a
// counter that went down restarted from zero, and where VACUUM or ANALYZE
// ran the split is unknown. What a rollout's swap handed over stands in
// for the previous read of a relation that took the live name since, and
// for the last read of one it moved out: neither the rows the rollout
// copied nor what the service wrote before the swap are lost or counted
// twice.
func deltas(prev, cur map[uint32]leafCounters, handed map[uint32]handover) map[string]*TableSample {
	out := map[string]*TableSample{}
	for oid, c := range cur {
		p, ok := prev[oid]
		if h, in := handed[oid]; !ok && in && h.incoming {
			p, ok = h.counters, true
		}
		addLeaf(out, c.root, c, p, ok)
	}
	for oid, p := range prev {
		if _, still := cur[oid]; still {
			continue
		}
		if h, in := handed[oid]; in && !h.incoming {
			addLeaf(out, p.root, h.counters, p, true)
		}
	}
	return out
}

// addLeaf adds to table root's sample one relation's growth from p (known:
// there was a previous read) to c.
func addLeaf(out map[string]*TableSample, root string, c, p leafCounters, known bool) {
	if !known || c.ins < p.ins || c.upd < p.upd || c.del < p.del || c.m < p.m {
		p = leafCounters{}
	}
	ins := c.ins - p.ins
	if ins <= 0 {
		return
	}
	ts := out[root]
	if ts == nil {
		ts = &TableSample{Table: root}
		out[root] = ts
	}
	ts.Inserted += ins
	dead, upd, del := c.dead-p.dead, c.upd-p.upd, c.del-p.del
	if c.m != p.m || dead < 0 {
		ts.RollbackUnknown += ins
		return
	}
	ts.RolledBack += min(max(dead-upd-del, 0), ins)
}

// changed reports whether a relation appeared or went between two reads:
// only then can a rollout's swap have happened in between.
func changed(prev, cur map[uint32]leafCounters) bool {
	if len(prev) != len(cur) {
		return true
	}
	for oid := range cur {
		if _, ok := prev[oid]; !ok {
			return true
		}
	}
	return false
}

// handover is what a rollout's swap handed over for one table or partition
// (hmperf.write_handovers, migration 0038): its counters then, and whether
// it took the live name.
type handover struct {
	counters leafCounters
	incoming bool
}

// readHandovers reads the latest handover of each relation: nothing on a
// schema older than 0038, or for a role not granted SELECT on the table
// (then the first sample after a swap counts the incoming table's rows).
func readHandovers(ctx context.Context, db queries.DBTX) (map[uint32]handover, error) {
	var readable bool
	if err := db.QueryRow(ctx, `SELECT CASE WHEN to_regclass('hmperf.write_handovers') IS NULL THEN false
		ELSE has_table_privilege(to_regclass('hmperf.write_handovers')::oid, 'SELECT') END`).Scan(&readable); err != nil || !readable {
		return nil, err
	}
	rows, err := db.Query(ctx, `SELECT DISTINCT ON (relid) relid, incoming, n_tup_ins, n_tup_upd, n_tup_del, n_dead_tup, maintenance
		FROM hmperf.write_handovers ORDER BY relid, handed_at DESC, id DESC`)
	if err != nil {
		return nil, err
	}
	out := map[uint32]handover{}
	var oid uint32
	var h handover
	c := &h.counters
	_, err = pgx.ForEachRow(rows, []any{&oid, &h.incoming, &c.ins, &c.upd, &c.del, &c.dead, &c.m}, func() error {
		out[oid] = h
		return nil
	})
	return out, err
}

// pendingFor is how long hmperf's own writes wait for the statistics to
// show them, as hmperf.sample_writes() carries them.
const pendingFor = 5 * time.Minute

// match takes hmperf's pending writes out of each table's deltas, as
// hmperf.sample_writes() does: rolled-back rows out of the rolled-back
// ones, then of those whose split is unknown; committed rows out of the
// rest.
func (m *MemorySampler) match(tables map[string]*TableSample, now time.Time) []TableSample {
	var out []TableSample
	for name, ts := range tables {
		committed := ts.Inserted - ts.RolledBack
		if p := m.pending[name]; p != nil {
			rb := min(p.rolledBack, ts.RolledBack)
			rbu := min(p.rolledBack-rb, ts.RollbackUnknown)
			c := min(p.committed, committed-rbu)
			ts.RolledBack -= rb
			ts.RollbackUnknown -= rbu
			committed -= rbu + c
			ts.HmperfRows, ts.HmperfRolledBack = c, rb+rbu
			p.committed -= c
			p.rolledBack -= rb + rbu
		}
		ts.Rows = committed
		out = append(out, *ts)
	}
	for name, p := range m.pending {
		if p.committed == 0 && p.rolledBack == 0 || now.Sub(p.since) > pendingFor {
			delete(m.pending, name)
		}
	}
	sortTables(out)
	return out
}

// ChooseSampler is how a role samples the service's writes: stored in
// hmperf's tables where it may write them and the session is not
// read-only, else in memory (a fresh MemorySampler's deltas between its own
// samples, stored nowhere), with why: the privilege it lacks, or read-only.
// why is "" for the stored sampler.
func ChooseSampler(ctx context.Context, db queries.DBTX, readOnly bool) (sample func(context.Context, queries.DBTX) (SampleResult, error), why string, err error) {
	if readOnly {
		why = "--read-only: nothing is written, the samples included"
	} else {
		err := CanStore(ctx, db)
		var denied *queries.PrivilegeError
		if !errors.As(err, &denied) {
			return Sample, "", err
		}
		why = denied.Error()
	}
	m := &MemorySampler{}
	return m.Sample, why, nil
}
