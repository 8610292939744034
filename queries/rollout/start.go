package rollout

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/queries"
)

// Started is what start reports.
type Started struct {
	State   *State    `json:"state"`
	Gate    Gate      `json:"gate"`
	Refused []Refusal `json:"refused"`
	Resumed bool      `json:"resumed"`
}

// Start begins the rollout of table, or resumes the one in flight: it
// builds the twin, installs change capture on the live table (DDL under
// lock_timeout, retried as r.Lock says), sets refused rows aside when
// asked, copies the live rows in keyset batches that throttle, and applies
// the change log until it is caught up. A killed Start resumes from the
// stored high-water key; a batch and its high-water key commit together,
// so no row is copied twice and none is skipped.
func (r *Runner) Start(ctx context.Context, table string, o Options) (*Started, error) {
	out := &Started{}
	st, err := Open(ctx, r.Pool, table)
	switch {
	case err == nil:
		if st.Phase != PhaseStarted {
			return nil, fmt.Errorf("rollout of %s is %s: nothing to start (revert or finish it)", table, st.Phase)
		}
		out.Resumed = true
	case errors.Is(err, ErrNoRollout):
		if st, err = r.begin(ctx, table, o, out); err != nil {
			return nil, err
		}
	default:
		return nil, err
	}
	out.State = st
	d, err := ReadDesign(ctx, r.Pool, table)
	if err != nil {
		return nil, err
	}
	if err := r.ensureCapture(ctx, d); err != nil {
		return nil, err
	}
	if err := r.backfill(ctx, d, st, o); err != nil {
		return out, err
	}
	out.State, err = Open(ctx, r.Pool, table)
	return out, err
}

// begin checks the gate and the refused rows, then records the rollout
// and builds the twin and the log in one transaction, which takes no lock
// that conflicts with the service's writes.
func (r *Runner) begin(ctx context.Context, table string, o Options, out *Started) (*State, error) {
	d, err := ReadDesign(ctx, r.Pool, table)
	if err != nil {
		return nil, err
	}
	if len(d.Blockers) > 0 {
		return nil, fmt.Errorf("rollout of %s refused: %s", table, strings.Join(d.Blockers, "; "))
	}
	if out.Gate, err = ReadGate(ctx, r.Pool, table); err != nil {
		return nil, err
	}
	forced := ""
	if !out.Gate.Holds {
		if !o.Force {
			return nil, fmt.Errorf("rollout of %s refused: the latest verdict does not hold: %s; --force starts it anyway", table, out.Gate.Reason)
		}
		forced = "forced although the gate does not hold: " + out.Gate.Reason
	}
	if out.Refused, err = Refused(ctx, r.Pool, d); err != nil {
		return nil, err
	}
	if len(out.Refused) > 0 && !o.Quarantine {
		return nil, fmt.Errorf("rollout of %s refused: %s; --quarantine sets those rows aside in %s (revert puts them back)",
			table, describeRefusals(out.Refused), d.names().quarantine().Sanitize())
	}
	tx, err := r.Pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer queries.Rollback(tx)
	if err := exec(ctx, tx, "SET LOCAL search_path = pg_catalog"); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO hmperf.rollouts (table_schema, table_name, phase, key_columns, forced, enum_types, rows_estimate)
		VALUES ($1, $2, 'started', $3, nullif($4, ''), $6,
		        (SELECT coalesce(sum(greatest(c.reltuples, 0)), 0)::bigint FROM pg_class c
		          WHERE c.oid = $5 OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = $5)))`,
		d.Schema, d.Table, d.Key, forced, d.OID, enumTypes(d)); err != nil {
		return nil, fmt.Errorf("rollout: record the rollout of %s: %w", table, err)
	}
	if err := createTwin(ctx, tx, d); err != nil {
		return nil, err
	}
	if err := createLog(ctx, tx, d.names()); err != nil {
		return nil, fmt.Errorf("rollout: create the change log: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, err
	}
	if err := r.ensureCapture(ctx, d); err != nil {
		return nil, err
	}
	if len(out.Refused) > 0 {
		if err := r.quarantine(ctx, d); err != nil {
			return nil, err
		}
	}
	return Open(ctx, r.Pool, table)
}

func enumTypes(d *Design) []string {
	out := make([]string, 0, len(d.Enums)+len(d.Domains))
	for _, e := range d.Enums {
		out = append(out, e.Type)
	}
	for _, m := range d.Domains {
		out = append(out, m.Type)
	}
	return out
}

func describeRefusals(rs []Refusal) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = fmt.Sprintf("%d %s the new layout refuses (%s; e.g. %s)", r.Rows, plural(r.Rows, "row", "rows"), r.Rule, strings.Join(r.Examples, ", "))
	}
	return strings.Join(parts, "; ")
}

// ensureCapture installs the forward capture trigger on the live table
// unless it is there: a short transaction whose CREATE TRIGGER takes a
// SHARE ROW EXCLUSIVE lock on the table, under lock_timeout and retried.
func (r *Runner) ensureCapture(ctx context.Context, d *Design) error {
	n := d.names()
	return r.Lock.InTx(ctx, "install change capture on "+n.String(), r.Pool, func(ctx context.Context, tx pgx.Tx) error {
		var present bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = $1 AND tgname = $2)", d.OID, captureTrigger).Scan(&present); err != nil || present {
			return err
		}
		return installCapture(ctx, tx, n, "forward", n.live())
	})
}

// quarantine sets the refused rows aside in one transaction. Its DELETE
// waits for the row locks of the service's transactions on those rows:
// each attempt under lock_timeout, retried with backoff as r.Lock says.
func (r *Runner) quarantine(ctx context.Context, d *Design) error {
	return r.Lock.InTx(ctx, "set aside the rows the new layout of "+d.names().String()+" refuses", r.Pool, func(ctx context.Context, tx pgx.Tx) error {
		moved, err := quarantine(ctx, tx, d)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE hmperf.rollouts SET quarantine = $2, quarantined = $3
			WHERE table_name = $1 AND phase = 'started'`, d.Table, d.names().quarantine().Sanitize(), moved)
		return err
	})
}

// backfill copies until the live table is exhausted, applying the log as
// it goes, then drains the log.
func (r *Runner) backfill(ctx context.Context, d *Design, st *State, o Options) error {
	c := newCopier(d, o.batch())
	ap, err := r.applier(ctx, d.names(), d.names().twin(), d.Key)
	if err != nil {
		return err
	}
	p := progress{o: o, start: time.Now(), copied0: st.Copied, last: time.Now()}
	hw, copied, done := st.HighWater, st.Copied, st.BackfillDone
	for !done {
		if err := r.waitThrottle(ctx, d, st.ID, &p); err != nil {
			return err
		}
		if hw, copied, done, err = r.copyBatch(ctx, c, st.ID, hw, copied, p.rate(copied)); err != nil {
			return err
		}
		if _, err := r.applyOnce(ctx, ap, o.batch()); err != nil {
			return err
		}
		p.report(d.Table, copied, st.Estimate)
		if o.OnBatch != nil {
			o.OnBatch(copied)
		}
	}
	return r.drain(ctx, ap, o.batch())
}

// copyBatch copies one batch and stores the high-water key with it.
func (r *Runner) copyBatch(ctx context.Context, c *copier, id int64, hw []string, copied int64, rate float64) ([]string, int64, bool, error) {
	tx, err := r.Pool.Begin(ctx)
	if err != nil {
		return hw, copied, false, err
	}
	defer queries.Rollback(tx)
	read, inserted, next, err := c.batch(ctx, tx, hw)
	if err != nil {
		return hw, copied, false, fmt.Errorf("rollout: copy a batch into the twin: %w", err)
	}
	done := read < int64(c.batchN)
	if next == nil {
		next = hw
	}
	copied += inserted
	if _, err := tx.Exec(ctx, `UPDATE hmperf.rollouts SET high_water = $2, rows_copied = $3, backfill_done = $4,
		throttle = NULL, rate = nullif($5, 0), updated_at = clock_timestamp() WHERE id = $1`, id, next, copied, done, rate); err != nil {
		return hw, copied, false, err
	}
	if err := publishCounts(ctx, tx); err != nil {
		return hw, copied, false, err
	}
	return next, copied, done, tx.Commit(ctx)
}

func (r *Runner) applier(ctx context.Context, n names, target pgx.Identifier, key []string) (*applier, error) {
	tx, err := r.Pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer queries.Rollback(tx)
	return newApplier(ctx, tx, n, target, key)
}

// applyOnce applies at most limit log entries in a transaction of its own.
func (r *Runner) applyOnce(ctx context.Context, ap *applier, limit int) (int64, error) {
	tx, err := r.Pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer queries.Rollback(tx)
	n, err := ap.apply(ctx, tx, limit)
	if err != nil {
		return 0, err
	}
	if err := publishCounts(ctx, tx); err != nil {
		return 0, err
	}
	return n, tx.Commit(ctx)
}

// publishCounts has the statistics of what tx wrote to the twin published
// as its COMMIT returns, not up to a second later: the swap hands the
// twin's counters to the write sampler (handOverSample), and counts
// published after it would show as the service's writes.
func publishCounts(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, "SELECT pg_stat_force_next_flush()")
	return err
}

// drain applies the log until a pass finds less than a batch in it: the
// service keeps writing, so "empty" is only reached under the swap's lock.
func (r *Runner) drain(ctx context.Context, ap *applier, limit int) error {
	for {
		n, err := r.applyOnce(ctx, ap, limit)
		if err != nil || n < int64(limit) {
			return err
		}
	}
}

// waitThrottle returns once nothing the backfill throttles on is over its
// limit, storing and logging why it waits while it does.
func (r *Runner) waitThrottle(ctx context.Context, d *Design, id int64, p *progress) error {
	for {
		t, err := readThrottle(ctx, r.Pool, d.OID)
		if err != nil {
			return fmt.Errorf("rollout: read the throttle: %w", err)
		}
		p.lag = t.Lag
		why := t.why(p.o)
		if why == "" {
			return nil
		}
		if why != p.paused {
			p.paused = why
			if _, err := r.Pool.Exec(ctx, "UPDATE hmperf.rollouts SET throttle = $2, updated_at = clock_timestamp() WHERE id = $1", id, why); err != nil {
				return err
			}
			if p.o.Log != nil {
				fmt.Fprintf(p.o.Log, "backfill %s: paused: %s\n", d.Table, why)
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(p.o.pause()):
		}
	}
}

// progress prints a line of the backfill's progress every o.Every.
type progress struct {
	o       Options
	start   time.Time
	last    time.Time
	copied0 int64
	lag     time.Duration
	paused  string
}

// rate is the rows per second this run has copied so far.
func (p *progress) rate(copied int64) float64 {
	secs := time.Since(p.start).Seconds()
	if secs <= 0 {
		return 0
	}
	return float64(copied-p.copied0) / secs
}

func (p *progress) report(table string, copied, estimate int64) {
	if p.o.Log == nil || time.Since(p.last) < p.o.every() {
		return
	}
	p.last = time.Now()
	rate := p.rate(copied)
	eta := "unknown"
	if rate > 0 && estimate > copied {
		eta = time.Duration(float64(estimate-copied) / rate * float64(time.Second)).Round(time.Second).String()
	}
	p.paused = ""
	fmt.Fprintf(p.o.Log, "backfill %s: %d of ~%d rows, %.0f rows/s, ETA %s, replica lag %s, running\n",
		table, copied, estimate, rate, eta, p.lag.Round(time.Millisecond))
}
