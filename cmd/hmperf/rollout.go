package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"hmperf/cmd/internal/cmdout"
	"hmperf/queries/rollout"
)

const rolloutAbout = `hmperf rollout moves nutrition_metrics, symptoms or activity_metrics_v2 to its optimized
layout while the service writes it: a twin derived from the live catalogue, change capture by
trigger, a batched backfill that throttles, verification, a swap under a bounded lock, and a
way back until finish. start refuses unless the latest benchmark verdict for the table on this
server holds (--force starts anyway, and stores why).`

// rolloutOpts are the flags of `hmperf rollout`.
type rolloutOpts struct {
	globals
	force      bool
	quarantine bool
	batchRows  int
	maxLag     time.Duration
	maxLoad    int
}

func (o *rolloutOpts) flags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.force, "force", false, "start: start although the latest verdict does not hold (the reason is stored)")
	fs.BoolVar(&o.quarantine, "quarantine", false, "start: move the rows the new layout refuses to a table of hmperf's (revert puts them back)")
	fs.IntVar(&o.batchRows, "batch-rows", 1000, "start: rows per backfill transaction")
	fs.DurationVar(&o.maxLag, "max-lag", 10*time.Second, "start: pause while a replica replays further behind than this (0: no limit)")
	fs.IntVar(&o.maxLoad, "max-load", 0, "start: pause while more than this many other sessions of the database run a statement (0: no limit)")
}

func runRollout(ctx context.Context, e env, o *rolloutOpts, rest []string) error {
	if len(rest) != 2 {
		return fmt.Errorf("%w: rollout needs an action and a table: plan|start|status|verify|swap|revert|finish TABLE", errUsage)
	}
	action, table := rest[0], rest[1]
	if action != "plan" && action != "status" && action != "verify" && o.conn.readOnly {
		return fmt.Errorf("rollout %s changes the database and --read-only is set", action)
	}
	t, err := openSchema(ctx, o.conn, e.stderr)
	if err != nil {
		return err
	}
	defer t.Close()
	pool, err := t.Pool(ctx, 3)
	if err != nil {
		return err
	}
	defer pool.Close()
	r := &rollout.Runner{Pool: pool, Lock: t.LockPolicy(e.stderr)}
	return rolloutAction(ctx, e, r, o, action, table)
}

func rolloutAction(ctx context.Context, e env, r *rollout.Runner, o *rolloutOpts, action, table string) error {
	var (
		v   any
		err error
	)
	switch action {
	case "plan":
		var p *rollout.Plan
		if p, err = r.Plan(ctx, table, o.conn.lockTimeout); err == nil && !o.json {
			printPlan(e.stdout, p)
		}
		v = p
	case "start":
		opts := rollout.Options{BatchRows: o.batchRows, MaxLag: o.maxLag, MaxLoad: o.maxLoad, Force: o.force, Quarantine: o.quarantine}
		if !o.json {
			opts.Log = e.stdout
		}
		var s *rollout.Started
		if s, err = r.Start(ctx, table, opts); err == nil && !o.json {
			printStarted(e.stdout, s)
		}
		v = s
	case "status":
		var s *rollout.State
		if s, err = rollout.Open(ctx, r.Pool, table); err == nil && !o.json {
			printState(e.stdout, s)
		}
		v = s
	case "verify":
		var res *rollout.Verified
		if res, err = r.Verify(ctx, table); err == nil {
			if !o.json {
				printVerified(e.stdout, res)
			}
			if !res.OK() {
				defer func() { err = errors.Join(err, fmt.Errorf("verify: %s and %s differ", res.Serving, res.Other)) }()
			}
		}
		v = res
	case "swap", "revert":
		v, err = swapOrRevert(ctx, e, r, o, action, table)
	case "finish":
		v, err = finish(ctx, e, r, o, table)
	default:
		return fmt.Errorf("%w: unknown rollout action %q (want plan, start, status, verify, swap, revert or finish)", errUsage, action)
	}
	if err == nil && o.json {
		err = cmdout.JSON(e.stdout, v)
	}
	return err
}

func swapOrRevert(ctx context.Context, e env, r *rollout.Runner, o *rolloutOpts, action, table string) (*rollout.Swapped, error) {
	run := r.Swap
	if action == "revert" {
		run = r.Revert
	}
	s, err := run(ctx, table)
	if err != nil || o.json {
		return s, err
	}
	if s.LockHeld > 0 {
		fmt.Fprintf(e.stdout, "%s %s: exclusive lock held %s (%d log entries applied under it, %d views re-pointed)\n",
			action, table, s.LockHeld.Round(time.Microsecond), s.Applied, s.Views)
	} else {
		fmt.Fprintf(e.stdout, "%s %s: change capture and twin removed; the live table was never swapped\n", action, table)
	}
	if s.Returned > 0 {
		fmt.Fprintf(e.stdout, "%d quarantined rows returned to %s\n", s.Returned, table)
	}
	return s, nil
}

func finish(ctx context.Context, e env, r *rollout.Runner, o *rolloutOpts, table string) (*rollout.Finished, error) {
	if err := e.prompt().ConfirmTyped(o.yes, "drop the original "+table+" (kept since the swap for revert) and its change capture; revert is impossible afterwards", table); err != nil {
		return nil, err
	}
	f, err := r.Finish(ctx, table)
	if err != nil || o.json {
		return f, err
	}
	fmt.Fprintf(e.stdout, "finish %s: the original table and the change capture are dropped\n", table)
	if f.Kept > 0 {
		fmt.Fprintf(e.stdout, "kept: %s holds %d rows the new layout refuses; copy them elsewhere before dropping it\n", f.Quarantine, f.Kept)
	}
	return f, nil
}

func printPlan(w io.Writer, p *rollout.Plan) {
	d := p.Design
	fmt.Fprintf(w, "rollout plan for %s.%s (key %s)\n\n", d.Schema, d.Table, strings.Join(d.Key, ", "))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "column\tlive\ttwin")
	for _, c := range p.Columns {
		mark := ""
		if c.Live != c.Twin {
			mark = "  *"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s%s\n", c.Column, c.Live, c.Twin, mark)
	}
	tw.Flush()
	if v := d.Validation; v != nil {
		checks := "CHECK"
		if len(v.Checks) > 1 {
			checks = fmt.Sprintf("%d CHECKs", len(v.Checks))
		}
		fmt.Fprintf(w, "\nvalidation function %s(%s): CHECK %s in place of the live %s %s\n",
			v.Function, strings.Join(v.Columns, ", "), v.Function, checks, strings.Join(v.Checks, ", "))
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "partition\trows\tbytes\tbound\t")
	for _, pt := range p.Partitions {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t\n", pt.Name, pt.Rows, pt.Bytes, pt.Bound)
	}
	tw.Flush()
	fmt.Fprintln(w)
	if len(p.Refused) == 0 {
		fmt.Fprintln(w, "refused rows: none (counted by a read-only scan)")
	}
	for _, r := range p.Refused {
		fmt.Fprintf(w, "refused rows: %d break %s; e.g. %s\n", r.Rows, r.Rule, strings.Join(r.Examples, "; "))
	}
	if p.Sample != nil {
		fmt.Fprintf(w, "backfill sample: %d rows in %s (%.0f rows/s, rolled back); every live row: about %s\n",
			p.Sample.Rows, p.Sample.Took.Round(time.Microsecond), p.Sample.RowsPerSec, p.Sample.Estimate.Round(time.Millisecond))
	} else {
		fmt.Fprintf(w, "backfill sample: UNKNOWN (%s)\n", p.SampleUnknown)
	}
	fmt.Fprintln(w, "\nlocks on the live table:")
	for _, l := range p.Locks {
		fmt.Fprintf(w, "  %s: %s; %s\n", l.Step, l.Lock, l.HeldFor)
	}
	gate := "does not hold"
	if p.Gate.Holds {
		gate = "holds"
	}
	fmt.Fprintf(w, "\nverdict: %s: %s\n", gate, p.Gate.Reason)
	for _, b := range d.Blockers {
		fmt.Fprintf(w, "blocked: %s\n", b)
	}
	if p.InFlight != nil {
		fmt.Fprintf(w, "in flight: a rollout of this table is %s\n", p.InFlight.Phase)
	}
}

func printStarted(w io.Writer, s *rollout.Started) {
	if s.State.Forced != "" {
		fmt.Fprintf(w, "forced: %s\n", s.State.Forced)
	}
	if s.State.Quarantine != "" {
		fmt.Fprintf(w, "quarantine: %d refused rows moved to %s (revert puts them back)\n", s.State.Quarantined, s.State.Quarantine)
	}
	printState(w, s.State)
}

func printState(w io.Writer, s *rollout.State) {
	fmt.Fprintf(w, "rollout %s.%s: %s; backfill %d rows copied (of ~%d), done %v; change log backlog %d\n",
		s.Schema, s.Table, s.Phase, s.Copied, s.Estimate, s.BackfillDone, s.Backlog)
	if s.Throttle != "" {
		fmt.Fprintf(w, "paused: %s\n", s.Throttle)
	}
	if s.LockHeldMS != nil {
		fmt.Fprintf(w, "swap held the exclusive lock %.3f ms\n", *s.LockHeldMS)
	}
}

func printVerified(w io.Writer, v *rollout.Verified) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "partition\t%s rows\t%s rows\tchecksums\n", v.Serving, v.Other)
	for _, p := range v.Partitions {
		same := "equal"
		if p.ServingDigest != p.OtherDigest {
			same = "DIFFER"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", p.Name, p.ServingRows, p.OtherRows, same)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d keys with changes still in the log were left out\n", v.InFlight)
	for _, d := range v.Differences {
		fmt.Fprintf(w, "difference: %s\n", d)
	}
}
