package ingest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/engine"
	"hmperf/queries"
	"hmperf/queries/catalog"
	"hmperf/queries/lockwait"
)

// Item is one input record: a decoded record, a record rejected before it
// could be decoded, or a record of a type without a table.
type Item struct {
	Index       int64  // position in the input, for rejections
	Type        string // payload type tag or kind name, when known
	Record      engine.Record
	Reject      string // set when decoding failed: the reason, short
	Detail      string // the decoder's full one-line message
	Unsupported bool
}

// Options configures an Ingester.
type Options struct {
	Context   engine.Context
	Validator *engine.Validator // required
	Cache     *engine.Cache     // the validator's cache, for hit/miss counts; may be nil
	// TrackKeys bounds the cross-batch dedup memory; 0 means 1<<20 keys.
	TrackKeys int
	// RunID identifies the run in the stats tables; random when zero.
	RunID engine.UUID
	// Writers is how many batches commit at once, each in its own
	// transaction; 0 means 2.
	Writers int
	// RowFKChecks keeps PostgreSQL's per-row foreign-key checks on every
	// table, even where the per-batch check (fkcheck.go) could replace them.
	RowFKChecks bool
	// LockWait is how making a sandbox twin, or a batch, whose lock wait
	// timed out is retried.
	LockWait lockwait.Policy
	// Target is where rows go: the live tables (the zero value) or their
	// twins in the sandbox. The caller decides; generated rows on a
	// database hmperf did not create belong in the sandbox.
	Target Target
	// CreateUsers lets the run add the users its records name to the live
	// users table, which belongs to the service: without it a record whose
	// user does not exist is rejected as "unknown user". The sandbox has
	// users of its own and always gets the ones its records need.
	CreateUsers bool
	// Generated says the records are hmperf's own generated sample, not
	// real data: every batch marks its transaction (hmperf.generated), so
	// the monitor labels its samples hmperf_sample.<table> and no alert
	// takes them for the service's (migration 0033).
	Generated bool
}

// ReasonUnknownUser is the rejection reason of a record whose user is not
// in the target's users table and that the run may not add.
const ReasonUnknownUser = "unknown user"

// Ingester writes batches of items, one transaction per batch, keeping the
// run's totals. Prepare is serial (it owns the dedup state); Commit may run
// for several prepared batches at once.
type Ingester struct {
	db      queries.DBTX
	opts    Options
	batch   engine.BatchDeduper
	tracker *engine.Tracker
	batchNo int
	start   time.Time

	fk fkPlan

	layOnce sync.Once
	lay     *layout // what the catalogue says, read once
	layErr  error

	mu     sync.Mutex // guards users and totals, which Commit updates
	users  map[engine.UUID]struct{}
	totals Totals
}

// createsUsers reports whether the run adds the users its records need.
func (in *Ingester) createsUsers() bool {
	return in.opts.CreateUsers || in.opts.Target == Sandbox
}

// Prepared is a batch validated and deduplicated in Go, ready to commit.
type Prepared struct {
	no     int
	groups []*group
	pre    []TableStats
	users  []engine.UUID
}

// New returns an Ingester writing through db: a pool, a connection or a
// transaction (each batch then runs in a savepoint, so a test can roll the
// whole ingest back). A connection or a transaction takes one statement at a
// time: give it Options.Writers = 1.
func New(db queries.DBTX, opts Options) (*Ingester, error) {
	if opts.Validator == nil {
		return nil, errors.New("ingest: a validator is required")
	}
	if opts.TrackKeys == 0 {
		opts.TrackKeys = 1 << 20
	}
	if opts.Writers <= 0 {
		opts.Writers = 2
	}
	if opts.RunID == (engine.UUID{}) {
		_, _ = rand.Read(opts.RunID[:])
	}
	return &Ingester{
		db:      db,
		opts:    opts,
		tracker: engine.NewTracker(opts.TrackKeys),
		users:   map[engine.UUID]struct{}{},
		totals:  newTotals(opts.RunID, opts.Target),
		start:   time.Now(),
	}, nil
}

// Open returns an Ingester writing through db, with the target's layout
// read from the catalogue now (and, for the sandbox, its twins made), so a
// table it cannot write is reported before any row is. The validator's
// rules are fitted to the tables' CHECKs (catalog.Adapt), so it refuses
// what they would; the CHECKs it cannot enforce are in UnknownChecks and
// the totals. New validates with the rules as given.
func Open(ctx context.Context, db queries.DBTX, opts Options) (*Ingester, error) {
	in, err := New(db, opts)
	if err != nil {
		return nil, err
	}
	lay, err := in.layout(ctx)
	if err != nil {
		return nil, err
	}
	rules, unknown := lay.adapt(in.opts.Validator.Rules())
	in.opts.Validator.SetRules(rules)
	in.totals.UnknownChecks = unknown
	in.totals.CopyPath = lay.copyPaths()
	return in, nil
}

// UnknownChecks is the CHECKs of the target's tables that the validator
// does not enforce (read by Open): rows they refuse are refused by
// PostgreSQL alone, as constraint failures.
func (in *Ingester) UnknownChecks() []catalog.Check {
	in.mu.Lock()
	defer in.mu.Unlock()
	return slices.Clone(in.totals.UnknownChecks)
}

// layout reads the target's layout on first use; New leaves it to the
// first commit, Open does it at once.
func (in *Ingester) layout(ctx context.Context) (*layout, error) {
	in.layOnce.Do(func() { in.lay, in.layErr = readLayout(ctx, in.db, in.opts.Target, in.opts.LockWait) })
	return in.lay, in.layErr
}

// Totals returns the run's totals so far.
func (in *Ingester) Totals() Totals {
	in.mu.Lock()
	t := in.totals.clone()
	in.mu.Unlock()
	t.ForeignKeyCheck = in.fk.report()
	t.Duration = time.Since(in.start)
	return t
}

// Write validates, deduplicates and stores one batch with its stats and
// rejections in one transaction. On error nothing of the batch is stored and
// the totals are unchanged.
func (in *Ingester) Write(ctx context.Context, items []Item) error {
	return in.Commit(ctx, in.Prepare(items))
}

// Prepare validates and deduplicates a batch in Go. Batches must be
// prepared in input order, one at a time; items may be reused afterwards.
func (in *Ingester) Prepare(items []Item) *Prepared {
	p := &Prepared{no: in.batchNo}
	in.batchNo++
	p.groups, p.pre = in.prepare(items)
	p.users = in.newUsers(p.groups)
	return p
}

// Commit stores a prepared batch, its stats and its rejections in one
// transaction. Several batches may commit at once; on error nothing of the
// batch is stored and the totals are unchanged.
func (in *Ingester) Commit(ctx context.Context, p *Prepared) error {
	// A batch waits for row locks: another of the run's batches inserting
	// the same user, or the service's own transaction on it. Under
	// lock_timeout that wait gives up, and the batch, rolled back whole, is
	// tried again for the run's lock-wait budget. No watcher names the
	// blocker: it would need a connection of the pool the batches hold.
	var res committed
	err := in.opts.LockWait.Run(ctx, fmt.Sprintf("batch %d", p.no), nil, func(ctx context.Context) error {
		var err error
		res, err = in.commit(ctx, p)
		for try := 1; try < 3 && queries.Classify(err) == queries.KindDeadlock; try++ {
			// Two concurrent batches can deadlock on keys the cross-batch
			// tracker had forgotten; PostgreSQL aborts one, which rolled
			// back whole, so running it again is safe.
			res, err = in.commit(ctx, p)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("batch %d: %w", p.no, err)
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, u := range res.known {
		in.users[u] = struct{}{}
	}
	in.totals.add(res.stats)
	if in.totals.CopyPath == nil {
		in.totals.CopyPath = in.lay.copyPaths()
	}
	if in.opts.Target == Live {
		in.totals.addCreated(in.lay.users.Table.String(), liveIDs(in.lay.users, res.created))
	}
	return nil
}

// liveIDs is ids as the users table stores them.
func liveIDs(u *catalog.Users, ids []engine.UUID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = u.ID.Text(id)
	}
	return out
}

// committed is what a batch's transaction did.
type committed struct {
	stats   []TableStats
	known   []engine.UUID // users now known to exist
	created []engine.UUID // users it added
}

// commit writes a prepared batch in one transaction and returns its stats
// and what it learnt of the users table.
func (in *Ingester) commit(ctx context.Context, p *Prepared) (committed, error) {
	lay, err := in.layout(ctx)
	if err != nil {
		return committed{}, err
	}
	if err := in.fk.decide(ctx, in.db, in.opts.RowFKChecks, lay); err != nil {
		return committed{}, err
	}
	groups, absent := lay.split(p.groups)
	users := p.users
	if len(absent) > 0 {
		users = keptUsers(p.users, groups)
	}
	tx, err := in.db.Begin(ctx)
	if err != nil {
		return committed{}, err
	}
	defer queries.Rollback(tx)
	res, err := in.writeBatch(ctx, tx, lay, p, groups, absent, users)
	if err != nil {
		lay.recordRolledBack(tx, groups)
		return committed{}, err
	}
	return res, tx.Commit(ctx)
}

// batchSavepoint holds everything a batch writes, so that a batch that
// fails can still record the rows it rolled back (recordRolledBack).
const batchSavepoint = "hmperf_batch"

// writeBatch resolves the batch's users, writes its records and stats
// inside tx and, on a live target, records in hmperf.own_writes what it
// wrote.
func (in *Ingester) writeBatch(ctx context.Context, tx pgx.Tx, lay *layout, p *Prepared, groups []*group,
	absent []TableStats, users []engine.UUID) (committed, error) {
	if in.opts.Generated {
		if _, err := tx.Exec(ctx, "SELECT set_config('hmperf.generated', 'on', true)"); err != nil {
			return committed{}, err
		}
	}
	if lay.recordOwn {
		if _, err := tx.Exec(ctx, "SAVEPOINT "+batchSavepoint); err != nil {
			return committed{}, err
		}
	}
	groups, res, err := in.resolveUsers(ctx, tx, lay, groups, users)
	if err != nil {
		return committed{}, err
	}
	written, err := in.writeGroups(ctx, tx, groups)
	if err != nil {
		return committed{}, err
	}
	res.stats = slices.Concat(p.pre, absent, written)
	if err := storeBatch(ctx, tx, in.opts.RunID, p.no, in.opts.Context, res.stats); err != nil {
		return committed{}, fmt.Errorf("store stats: %w", err)
	}
	if lay.recordOwn {
		if err := queries.RecordOwnWrites(ctx, tx, lay.ownWrites(groups, written, int64(len(res.created)))); err != nil {
			return committed{}, err
		}
	}
	return res, nil
}

// resolveUsers makes sure every record of groups has its user: a run that
// may add users adds the missing ones; any other rejects the records of
// missing users as "unknown user", so nothing is written for them and the
// users table stays the service's. groups is not changed (a deadlocked
// batch runs again); the groups returned are what remains to write.
func (in *Ingester) resolveUsers(ctx context.Context, tx pgx.Tx, lay *layout, groups []*group, users []engine.UUID) ([]*group, committed, error) {
	if in.createsUsers() {
		created, err := lay.users.Create(ctx, tx, users)
		if err != nil {
			return nil, committed{}, fmt.Errorf("register users in %s: %w", lay.users.Table, err)
		}
		return groups, committed{known: users, created: created}, nil
	}
	missing, err := lay.users.Missing(ctx, tx, users)
	if err != nil {
		return nil, committed{}, fmt.Errorf("look up the batch's users in %s: %w", lay.users.Table, err)
	}
	if len(missing) == 0 {
		return groups, committed{known: users}, nil
	}
	slices.SortFunc(missing, compareUUID)
	known := slices.DeleteFunc(slices.Clone(users), func(u engine.UUID) bool { return isIn(missing, u) })
	out := make([]*group, len(groups))
	for i, g := range groups {
		out[i] = withoutUsers(g, missing)
	}
	return out, committed{known: known}, nil
}

// withoutUsers is g with the records of the sorted users missing moved to
// its rejections, as "unknown user"; g itself is left as it was.
func withoutUsers(g *group, missing []engine.UUID) *group {
	c := *g
	c.keep = make([]engine.Record, 0, len(g.keep))
	c.stats.indexes = make([]int64, 0, len(g.keep))
	c.stats.Reasons = maps.Clone(g.stats.Reasons)
	c.stats.rejections = slices.Clip(g.stats.rejections)
	for i, r := range g.keep {
		if isIn(missing, r.UserID()) {
			c.stats.reject(g.stats.indexes[i], []string{ReasonUnknownUser}, "", r)
			continue
		}
		c.keep = append(c.keep, r)
		c.stats.indexes = append(c.stats.indexes, g.stats.indexes[i])
	}
	return &c
}

func isIn(sorted []engine.UUID, u engine.UUID) bool {
	_, found := slices.BinarySearchFunc(sorted, u, compareUUID)
	return found
}

// ownWrites lists the tables a batch wrote with the rows it committed:
// users, and each group's table (written[i] is groups[i]'s outcome; nil
// when the batch failed, every count then 0).
func (lay *layout) ownWrites(groups []*group, written []TableStats, users int64) []queries.OwnWrite {
	out := []queries.OwnWrite{{Table: lay.users.Table.Ident().Sanitize(), Committed: users}}
	for i, g := range groups {
		w := queries.OwnWrite{Table: lay.tables[g.kind].ident.Sanitize()}
		if written != nil {
			w.Committed = int64(written[i].Inserted)
		}
		out = append(out, w)
	}
	return out
}

// recordRolledBack records, for a batch that failed, the rows it inserted
// and rolled back: it rolls back to the batch's savepoint (the
// transaction's counters keep what the rolled-back part inserted), records
// them and commits that record alone. It runs on a fresh context, as the
// batch's own may be why it failed; when the connection is gone it cannot,
// and the sampler counts those rows as rolled back by the service.
func (lay *layout) recordRolledBack(tx pgx.Tx, groups []*group) {
	if !lay.recordOwn {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	writes := lay.ownWrites(groups, nil, 0)
	tables := make([]string, len(writes))
	for i, w := range writes {
		tables[i] = w.Table
	}
	// The batch's own error is what its caller reports.
	_ = queries.RollBackRecorded(ctx, tx, batchSavepoint, tables)
}

// split separates the groups of kinds with a table from those without,
// whose records are all counted as unsupported, under the table's name
// (prefixed as unsupported payload types are), whatever validation and
// dedup made of them: nothing of theirs is written.
func (lay *layout) split(groups []*group) ([]*group, []TableStats) {
	var kept []*group
	var absent []TableStats
	for _, g := range groups {
		name := lay.absent[g.kind]
		if name == "" {
			kept = append(kept, g)
			continue
		}
		absent = append(absent, TableStats{Table: unsupportedPrefix + name, Received: g.received, Unsupported: g.received,
			Reasons: map[string]int{}, missingTable: name})
	}
	return kept, absent
}

// unsupportedPrefix marks the stats of records no table takes.
const unsupportedPrefix = "unsupported:"

// keptUsers is the users of sorted that records of groups have.
func keptUsers(sorted []engine.UUID, groups []*group) []engine.UUID {
	want := batchUsers(groups)
	return slices.DeleteFunc(slices.Clone(sorted), func(u engine.UUID) bool {
		_, found := slices.BinarySearchFunc(want, u, compareUUID)
		return !found
	})
}

// writeGroups writes the groups whose foreign key is checked per batch
// first, with the per-row triggers off, then the others with them on. On
// error the transaction rolls back, and the setting with it.
func (in *Ingester) writeGroups(ctx context.Context, tx pgx.Tx, groups []*group) ([]TableStats, error) {
	batch, err := in.batchChecked(ctx, tx, groups)
	if err != nil {
		return nil, err
	}
	if err := in.lockKeys(ctx, tx, groups); err != nil {
		return nil, err
	}
	out := make([]TableStats, len(groups))
	if slices.Contains(batch, true) {
		if err := setReplicationRole(ctx, tx, "replica"); err != nil {
			return nil, err
		}
		if err := in.writeMarked(ctx, tx, groups, batch, true, out); err != nil {
			return nil, err
		}
		if err := setReplicationRole(ctx, tx, "origin"); err != nil {
			return nil, err
		}
	}
	return out, in.writeMarked(ctx, tx, groups, batch, false, out)
}

// writeMarked writes the groups whose mark is want into out.
func (in *Ingester) writeMarked(ctx context.Context, tx pgx.Tx, groups []*group, marks []bool, want bool, out []TableStats) error {
	for i, g := range groups {
		if marks[i] != want {
			continue
		}
		st, err := in.writeGroup(ctx, tx, g)
		if err != nil {
			return err
		}
		out[i] = st
	}
	return nil
}

// batchChecked marks the groups whose foreign key this batch checks itself:
// their tables allow it and every one of their users is locked.
func (in *Ingester) batchChecked(ctx context.Context, tx pgx.Tx, groups []*group) ([]bool, error) {
	marks := make([]bool, len(groups))
	var eligible []*group
	for i, g := range groups {
		if !in.fk.eligible(g.kind) || len(g.keep) == 0 {
			continue
		}
		ok, err := in.stillBatchCheckable(ctx, tx, g.kind)
		if err != nil {
			return nil, err
		}
		if ok {
			marks[i] = true
			eligible = append(eligible, g)
		}
	}
	if len(eligible) == 0 {
		return marks, nil
	}
	all, err := in.lay.users.Lock(ctx, tx, batchUsers(eligible))
	if err != nil {
		return nil, fmt.Errorf("lock the batch's users: %w", err)
	}
	if !all {
		clear(marks) // a user went away: let the triggers reject its rows
	}
	return marks, nil
}

// stillBatchCheckable checks again, inside the batch's transaction, that
// replica mode skips nothing on kind k's table but its user_id foreign key.
// The table is locked first in ROW EXCLUSIVE mode, the lock the insert
// takes anyway: CREATE TRIGGER, CREATE RULE and ADD FOREIGN KEY need a lock
// that conflicts with it, so what the check sees stays true until commit.
func (in *Ingester) stillBatchCheckable(ctx context.Context, tx pgx.Tx, k engine.Kind) (bool, error) {
	tbl := in.lay.tables[k]
	if _, err := tx.Exec(ctx, "LOCK TABLE "+tbl.m.Table.Ident().Sanitize()+" IN ROW EXCLUSIVE MODE"); err != nil {
		return false, fmt.Errorf("lock %s for the foreign-key check: %w", tbl.name, err)
	}
	ok, err := batchCheckable(ctx, tx, tbl.m.Table.OID, in.lay.users.Table.OID)
	if err != nil {
		return false, fmt.Errorf("inspect %s for the foreign-key check: %w", tbl.name, err)
	}
	return ok, nil
}

func setReplicationRole(ctx context.Context, tx pgx.Tx, role string) error {
	_, err := tx.Exec(ctx, "SET LOCAL session_replication_role = "+role)
	return err
}

// group is the records of one kind in a batch, validated and deduplicated.
type group struct {
	kind     engine.Kind
	received int
	keep     []engine.Record
	stats    TableStats
}

// prepare splits a batch by kind, validates and deduplicates it in Go, and
// returns the per-kind groups plus the stats of items with no table
// (unsupported types, undecodable records).
func (in *Ingester) prepare(items []Item) ([]*group, []TableStats) {
	var byKind [engine.NumKinds]*group
	other := map[string]*TableStats{}
	var order []string
	for _, it := range items {
		if it.Record == nil {
			in.prepareOther(it, &byKind, other, &order)
			continue
		}
		g := in.groupFor(&byKind, it.Record.Kind())
		g.received++
		g.keep = append(g.keep, it.Record)
		g.stats.indexes = append(g.stats.indexes, it.Index)
	}
	var groups []*group
	for _, g := range byKind {
		if g != nil {
			in.validate(g)
			in.dedup(g)
			groups = append(groups, g)
		}
	}
	var pre []TableStats
	for _, name := range order {
		pre = append(pre, *other[name])
	}
	return groups, pre
}

func (in *Ingester) groupFor(byKind *[engine.NumKinds]*group, k engine.Kind) *group {
	if byKind[k] == nil {
		byKind[k] = &group{kind: k, stats: TableStats{Table: in.opts.Target.statsName(k), kind: k, metric: true, Reasons: map[string]int{}}}
	}
	return byKind[k]
}

// prepareOther accounts for an item that has no record: a decode failure is
// rejected under its kind's table when the type is known, an unsupported type
// is counted under its type tag.
func (in *Ingester) prepareOther(it Item, byKind *[engine.NumKinds]*group, other map[string]*TableStats, order *[]string) {
	if it.Reject != "" {
		if k, err := engine.ParseKind(it.Type); err == nil {
			g := in.groupFor(byKind, k)
			g.received++
			g.stats.reject(it.Index, []string{it.Reject}, it.Detail, nil)
			return
		}
	}
	name := unsupportedPrefix + it.Type
	if it.Reject != "" {
		name = "undecodable"
	}
	st, ok := other[name]
	if !ok {
		st = &TableStats{Table: name, Reasons: map[string]int{}}
		other[name] = st
		*order = append(*order, name)
	}
	st.Received++
	if it.Reject != "" {
		st.reject(it.Index, []string{it.Reject}, it.Detail, nil)
	} else {
		st.Unsupported++
	}
}

// validate drops the group's invalid records into its rejections.
func (in *Ingester) validate(g *group) {
	start := time.Now()
	before := in.cacheStats()
	var viol []engine.Violation
	kept, idx := g.keep[:0], g.stats.indexes[:0]
	for i, r := range g.keep {
		var out engine.Outcome
		out, viol = in.opts.Validator.Check(r, in.opts.Context, viol[:0])
		switch out {
		case engine.Invalid:
			g.stats.reject(g.stats.indexes[i], violationReasons(viol), "", r)
			g.stats.ValidationRejected++
			continue
		case engine.Unvalidated:
			g.stats.Unvalidated++
		}
		kept, idx = append(kept, r), append(idx, g.stats.indexes[i])
	}
	g.keep, g.stats.indexes = kept, idx
	after := in.cacheStats()
	g.stats.CacheHits, g.stats.CacheMisses = after.Hits-before.Hits, after.Misses-before.Misses
	g.stats.ValidateMs = ms(time.Since(start))
}

// dedup drops repeats within the batch (first wins) and keys seen in earlier
// batches of the run; the database's ON CONFLICT catches the rest.
func (in *Ingester) dedup(g *group) {
	start := time.Now()
	n := len(g.keep)
	before := slices.Clone(g.keep)
	g.keep = in.batch.Dedup(g.keep, nil)
	g.keep = in.tracker.Filter(g.keep)
	g.stats.Duplicates += n - len(g.keep)
	// The input positions of the records kept, for the rejections to come
	// (an unknown user, a refusal by the database).
	g.stats.indexes = keptIndexes(before, g.stats.indexes, g.keep)
	g.stats.DedupMs = ms(time.Since(start))
}

// keptIndexes is the input position of each record of kept, a
// subsequence of before (whose positions are indexes): both dedup filters
// keep the records they keep in order, as they were.
func keptIndexes(before []engine.Record, indexes []int64, kept []engine.Record) []int64 {
	out := make([]int64, 0, len(kept))
	j := 0
	for _, r := range kept {
		for before[j] != r {
			j++
		}
		out = append(out, indexes[j])
		j++
	}
	return out
}

func (in *Ingester) writeGroup(ctx context.Context, tx pgx.Tx, g *group) (TableStats, error) {
	start := time.Now()
	tbl := in.lay.tables[g.kind]
	w, err := writeTable(ctx, tx, tbl, g.keep)
	if err != nil {
		return TableStats{}, err
	}
	st := g.stats
	st.dropped = countDropped(tbl.m, g.keep)
	st.Received = g.received
	st.Inserted = w.Inserted
	st.Duplicates += w.Duplicates
	for _, rj := range w.Rejected {
		st.reject(g.stats.indexes[rj.Index], []string{rj.Reason}, "", g.keep[rj.Index])
		if rj.Constraint() {
			st.ConstraintFailures++
		}
	}
	st.WriteMs = ms(time.Since(start))
	return st, nil
}

// newUsers lists the batch's users not yet known to be stored, sorted, so
// that concurrent batches registering the same users lock them in the same
// order and cannot deadlock.
func (in *Ingester) newUsers(groups []*group) []engine.UUID {
	in.mu.Lock()
	defer in.mu.Unlock()
	return slices.DeleteFunc(batchUsers(groups), func(u engine.UUID) bool {
		_, known := in.users[u]
		return known
	})
}

func compareUUID(a, b engine.UUID) int { return bytes.Compare(a[:], b[:]) }

func (in *Ingester) cacheStats() engine.CacheStats {
	if in.opts.Cache == nil {
		return engine.CacheStats{}
	}
	return in.opts.Cache.Stats()
}

// countDropped counts, per field the table does not store, the records
// that had a value for it.
func countDropped(m *catalog.Mapping, recs []engine.Record) map[string]int {
	if len(m.Dropped) == 0 {
		return nil
	}
	counts := make([]int, len(m.Dropped))
	var vals []any
	for _, r := range recs {
		vals = r.AppendValues(vals[:0])
		m.CountDropped(vals, counts)
	}
	out := make(map[string]int, len(counts))
	for i, n := range counts {
		if n > 0 {
			out[m.Dropped[i]] = n
		}
	}
	return out
}

func violationReasons(viol []engine.Violation) []string {
	out := make([]string, len(viol))
	for i, v := range viol {
		out[i] = v.Field + ": " + v.Rule
	}
	return out
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// recordJSON renders a record as {column: value} for ingest_rejections.
func recordJSON(r engine.Record) []byte {
	if r == nil {
		return nil
	}
	vals := r.AppendValues(nil)
	m := make(map[string]any, len(vals))
	for i, name := range r.Columns() {
		switch v := vals[i].(type) {
		case [16]byte:
			m[name] = engine.UUID(v).String()
		case float64:
			m[name] = jsonNumber(v)
		default:
			m[name] = v
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil
	}
	return b
}

// jsonNumber keeps NaN and infinities, which JSON cannot hold, as strings.
func jsonNumber(v float64) any {
	if v != v || v > 1.7976931348623157e308 || v < -1.7976931348623157e308 {
		return fmt.Sprint(v)
	}
	return v
}
