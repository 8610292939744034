package rollout

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/queries"
)

// Plan is what `rollout plan` shows: nothing in it is assumed, every
// figure is read or measured on the database.
type Plan struct {
	Table      string       `json:"table"`
	Design     *Design      `json:"design"`
	Columns    []ColumnPair `json:"columns"`
	Partitions []PartStat   `json:"partitions"`
	Refused    []Refusal    `json:"refused"`
	Sample     *Sample      `json:"backfill_sample"`
	// SampleUnknown says why there is no sample, when there is none.
	SampleUnknown string     `json:"backfill_sample_unknown,omitempty"`
	Locks         []LockStep `json:"locks"`
	Gate          Gate       `json:"gate"`
	InFlight      *State     `json:"rollout_in_flight,omitempty"`
}

// ColumnPair is one column of the live table beside the twin's.
type ColumnPair struct {
	Column string `json:"column"`
	Live   string `json:"live"`
	Twin   string `json:"twin"`
}

// PartStat is one partition's rows (counted) and total size.
type PartStat struct {
	Name  string `json:"name"`
	Bound string `json:"bound"`
	Rows  int64  `json:"rows"`
	Bytes int64  `json:"bytes"`
}

// Sample is the backfill measured on a few live rows copied into a twin
// built in a transaction that is rolled back.
type Sample struct {
	Rows       int64         `json:"rows"`
	Took       time.Duration `json:"took_ns"`
	RowsPerSec float64       `json:"rows_per_second"`
	// Estimate is the time the backfill of every live row would take
	// at that rate, throttling aside.
	Estimate time.Duration `json:"estimate_ns"`
}

// LockStep is a lock a step of the rollout takes on the live table.
type LockStep struct {
	Step    string `json:"step"`
	Lock    string `json:"lock"`
	HeldFor string `json:"held_for"`
}

// sampleRows is how many rows the plan's backfill sample copies.
const sampleRows = 2000

// Plan reads the design, the partitions, the refused rows, the gate and
// the locks, and measures the backfill on a sample. It leaves nothing
// behind: the sample's twin is built and filled in a transaction that is
// rolled back, so under --read-only the sample is UNKNOWN.
func (r *Runner) Plan(ctx context.Context, table string, lockTimeout time.Duration) (*Plan, error) {
	d, err := ReadDesign(ctx, r.Pool, table)
	if err != nil {
		return nil, err
	}
	p := &Plan{Table: table, Design: d, Locks: lockSteps(lockTimeout)}
	if p.InFlight, err = Open(ctx, r.Pool, table); err != nil && !errors.Is(err, ErrNoRollout) {
		return nil, err
	}
	p.Columns = columnPairs(d)
	if p.Partitions, err = partStats(ctx, r.Pool, d); err != nil {
		return nil, err
	}
	if p.Refused, err = Refused(ctx, r.Pool, d); err != nil {
		return nil, err
	}
	if p.Gate, err = ReadGate(ctx, r.Pool, table); err != nil {
		return nil, err
	}
	switch {
	case p.InFlight != nil:
		p.SampleUnknown = "a rollout of this table is in flight: its twin exists"
	case len(d.Blockers) > 0:
		p.SampleUnknown = "the rollout is blocked"
	default:
		p.Sample, err = sample(ctx, r.Pool, d, totalRows(p.Partitions))
		if err != nil {
			p.Sample, p.SampleUnknown = nil, "UNKNOWN: "+queries.Plain(err)
		}
	}
	return p, nil
}

func columnPairs(d *Design) []ColumnPair {
	out := make([]ColumnPair, len(d.Columns))
	for i, c := range d.Columns {
		twin := c.Type
		if e, ok := d.enumOf(c.Name); ok {
			twin = fmt.Sprintf("enum %s (%d values)", e.Type, len(e.Labels))
		}
		if m, ok := d.domainOf(c.Name); ok {
			twin = fmt.Sprintf("domain %s (%s, %s..%s)", m.Type, m.Base, m.Min, m.Max)
		}
		out[i] = ColumnPair{Column: c.Name, Live: c.Type, Twin: twin}
	}
	return out
}

func totalRows(ps []PartStat) int64 {
	var n int64
	for _, p := range ps {
		n += p.Rows
	}
	return n
}

func partStats(ctx context.Context, db queries.DBTX, d *Design) ([]PartStat, error) {
	parts := d.Parts
	if len(parts) == 0 {
		parts = []Part{{OID: d.OID, Name: d.Table}}
	}
	out := make([]PartStat, len(parts))
	for i, p := range parts {
		out[i] = PartStat{Name: p.Name, Bound: p.Bound}
		sql := fmt.Sprintf("SELECT count(*), pg_total_relation_size($1) FROM ONLY %s", pgx.Identifier{d.Schema, p.Name}.Sanitize())
		if err := db.QueryRow(ctx, sql, p.OID).Scan(&out[i].Rows, &out[i].Bytes); err != nil {
			return nil, fmt.Errorf("rollout: count the rows of %s: %w", p.Name, err)
		}
	}
	return out, nil
}

// sample builds the twin and copies sampleRows live rows into it in a
// transaction it rolls back, timing the copy.
func sample(ctx context.Context, db queries.DBTX, d *Design, total int64) (*Sample, error) {
	tx, err := db.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer queries.Rollback(tx)
	if err := exec(ctx, tx, "SET LOCAL search_path = pg_catalog"); err != nil {
		return nil, err
	}
	if err := createTwin(ctx, tx, d); err != nil {
		return nil, err
	}
	c := newCopier(d, sampleRows)
	start := time.Now()
	_, inserted, _, err := c.batch(ctx, tx, nil)
	if err != nil {
		return nil, err
	}
	s := &Sample{Rows: inserted, Took: time.Since(start)}
	if inserted > 0 {
		s.RowsPerSec = float64(inserted) / s.Took.Seconds()
		s.Estimate = time.Duration(float64(total) / s.RowsPerSec * float64(time.Second))
	}
	return s, nil
}

// lockSteps lists the locks the rollout's steps take on the live table.
// Every wait is bounded by lock_timeout and retried within --lock-wait;
// how long each is held is what the step measures and prints.
func lockSteps(lockTimeout time.Duration) []LockStep {
	wait := fmt.Sprintf("waits at most %s per attempt (lock_timeout)", lockTimeout)
	return []LockStep{
		{"start: build the twin", "ACCESS SHARE on the live table (reads its definition)", "one short transaction; conflicts only with DDL"},
		{"start: install change capture", "SHARE ROW EXCLUSIVE on the live table and its partitions (CREATE TRIGGER)", wait + "; held for one CREATE TRIGGER"},
		{"start: quarantine (--quarantine)", "ROW EXCLUSIVE on the live table (DELETE of the refused rows)", "one transaction; does not block the service's writes"},
		{"start: backfill batches", "ACCESS SHARE on the live table per batch", "one batch (--batch-rows) per transaction; does not block the service's writes"},
		{"swap", "ACCESS EXCLUSIVE on the live table and the twin", wait + "; held while the last log entries are applied and the names exchanged (measured and printed)"},
		{"revert (after swap)", "ACCESS EXCLUSIVE on both tables", wait + "; as swap"},
		{"finish", "ACCESS EXCLUSIVE on the live table (DROP TRIGGER)", wait + "; held for the drop of the trigger"},
	}
}

// PlainCopy is the reference the backfill is measured against: every live
// row copied into a twin by one INSERT ... SELECT, the way a hand-written
// migration would, in a transaction that is rolled back. It returns the
// rows copied and how long the statement took.
func (r *Runner) PlainCopy(ctx context.Context, table string) (int64, time.Duration, error) {
	d, err := ReadDesign(ctx, r.Pool, table)
	if err != nil {
		return 0, 0, err
	}
	tx, err := r.Pool.Begin(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer queries.Rollback(tx)
	if err := exec(ctx, tx, "SET LOCAL search_path = pg_catalog"); err != nil {
		return 0, 0, err
	}
	if err := createTwin(ctx, tx, d); err != nil {
		return 0, 0, err
	}
	c := newCopier(d, 0)
	start := time.Now()
	tag, err := tx.Exec(ctx, c.plainSQL(d))
	if err != nil {
		return 0, 0, fmt.Errorf("rollout: plain copy: %w", err)
	}
	return tag.RowsAffected(), time.Since(start), nil
}
