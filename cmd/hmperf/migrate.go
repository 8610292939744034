package main

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/pflag"

	"hmperf/cmd/internal/cmdout"
	"hmperf/migrations"
	"hmperf/queries/bench"
)

// migrateOpts are the flags of `hmperf migrate`.
type migrateOpts struct {
	globals
	downAll bool
}

func (o *migrateOpts) flags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.downAll, "all", false, "with down: revert every migration")
}

func runMigrate(ctx context.Context, e env, o *migrateOpts, rest []string) error {
	if len(rest) == 0 {
		return fmt.Errorf("%w: migrate needs an action: status, adopt, up, down [N|--all], goto V or force V", errUsage)
	}
	action, err := parseMigrateAction(rest, o.downAll)
	if err != nil {
		return err
	}
	if action.writes && o.conn.readOnly {
		return fmt.Errorf("migrate %s changes the schema and --read-only is set", action.name)
	}
	t, err := resolveTarget(ctx, o.conn, e.stderr)
	if err != nil {
		return err
	}
	defer t.Close()
	if !action.writes {
		return showStatus(ctx, e.stdout, t, o.json)
	}
	if action.name == "adopt" {
		return runAdopt(ctx, e, t, *o)
	}
	if action.name == "down" && action.all {
		// A down --all that already removed hmperf's schema (and was
		// killed before it said so) finds nothing left: run again, it
		// ends as the first run would have.
		if !t.HasSchema(ctx) {
			return reportDone(ctx, e.stdout, t, "down --all (nothing of hmperf's was left)")
		}
	}
	m, err := t.Migrator(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	m.SetLockWait(t.LockPolicy(e.stderr))
	if err := e.prompt().Confirm(o.yes, action.describe(t)); err != nil {
		return err
	}
	if action.name == "down" && action.all {
		if err := sweepBenchmarks(ctx, t, e.stderr); err != nil {
			return err
		}
	}
	if err := action.apply(ctx, m); err != nil {
		return migrations.Failure(ctx, m, action.name, err)
	}
	return reportDone(ctx, e.stdout, t, action.name)
}

// sweepBenchmarks is `down --all`'s first step (bench.SweepBeforeDown), on
// a connection of its own.
func sweepBenchmarks(ctx context.Context, t *target, log io.Writer) error {
	conn, err := t.Connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return bench.SweepBeforeDown(ctx, conn, t.LockPolicy(log), log)
}

// reportDone prints the state a successful change left, read afresh: after
// `down --all` hmperf's version table no longer exists.
func reportDone(ctx context.Context, w io.Writer, t *target, action string) error {
	st, err := t.ReadStatus(ctx)
	if err != nil {
		return err
	}
	return cmdout.MigrateDone(w, action, st)
}

type migrateAction struct {
	name   string
	writes bool
	n      int
	v      int
	all    bool
}

func parseMigrateAction(rest []string, all bool) (migrateAction, error) {
	a := migrateAction{name: rest[0], writes: rest[0] != "status", all: all}
	argc := map[string]int{"status": 0, "adopt": 0, "up": 0, "down": 1, "goto": 1, "force": 1}
	want, ok := argc[a.name]
	if !ok {
		return a, fmt.Errorf("%w: unknown migrate action %q (status, adopt, up, down, goto, force)", errUsage, a.name)
	}
	switch {
	case a.name == "down" && all:
		want = 0
	case a.name == "down" && len(rest) == 1:
		// `migrate down` alone reverts one step: N of `down [N]`
		// defaults to 1.
		rest = append(rest, "1")
	}
	if len(rest)-1 != want {
		return a, fmt.Errorf("%w: migrate %s takes %d argument(s), got %d", errUsage, a.name, want, len(rest)-1)
	}
	if want == 1 {
		n, err := strconv.Atoi(rest[1])
		if err != nil {
			return a, fmt.Errorf("%w: migrate %s: %q is not a number", errUsage, a.name, rest[1])
		}
		a.n, a.v = n, n
		// force V takes -1 ("no version"), as golang-migrate does.
		if (a.name == "down" && n < 1) || (a.name == "goto" && n < 0) {
			return a, badArg("migrate", a.name, map[string]string{"down": "a positive count", "goto": "a version of 0 or more"}[a.name], rest[1])
		}
	}
	return a, nil
}

func (a migrateAction) describe(t *target) string {
	switch {
	case a.name == "up":
		return fmt.Sprintf("apply every pending migration to %s", t.Describe())
	case a.name == "down" && a.all:
		return fmt.Sprintf("revert EVERY migration hmperf applied to %s and remove its schema (drops all hmperf tables and their data; an adopted database keeps the service's tables)", t.Describe())
	case a.name == "down":
		return fmt.Sprintf("revert the last %d migration(s) of %s (drops their objects and data)", a.n, t.Describe())
	case a.name == "goto":
		return fmt.Sprintf("migrate %s to version %d", t.Describe(), a.v)
	default:
		return fmt.Sprintf("record version %d on %s without running any migration", a.v, t.Describe())
	}
}

// apply runs the action one migration at a time; ctx (Ctrl-C) stops a
// wait for a lock.
func (a migrateAction) apply(ctx context.Context, m *migrations.Migrator) error {
	switch {
	case a.name == "up":
		return m.UpContext(ctx)
	case a.name == "down" && a.all:
		return m.DownAllContext(ctx)
	case a.name == "down":
		return m.DownContext(ctx, a.n)
	case a.name == "goto":
		return m.GotoContext(ctx, uint(a.v))
	default:
		return m.ForceContext(ctx, a.v)
	}
}

// showStatus prints the state; a dirty database exits 1 so scripts notice.
func showStatus(ctx context.Context, w io.Writer, t *target, asJSON bool) error {
	st, err := t.ReadStatus(ctx)
	if err != nil {
		return err
	}
	if err := cmdout.MigrationStatus(w, st, asJSON); err != nil {
		return err
	}
	if st.Dirty {
		return &exitError{code: 1, err: fmt.Errorf("the schema is dirty at version %d", st.Version)}
	}
	return nil
}
