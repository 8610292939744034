package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"

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
		if !hasSchema(ctx, t) {
			return reportDone(ctx, e.stdout, t, "down --all (nothing of hmperf's was left)")
		}
	}
	m, err := t.migrator(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	m.SetLockWait(t.lockPolicy(e.stderr))
	if err := confirm(e, o.yes, action.describe(t)); err != nil {
		return err
	}
	if action.name == "down" && action.all {
		if err := sweepBenchmarks(ctx, t, e.stderr); err != nil {
			return err
		}
	}
	if err := action.apply(ctx, m); err != nil {
		return migrateFailure(ctx, m, action.name, err)
	}
	return reportDone(ctx, e.stdout, t, action.name)
}

// sweepBenchmarks is `down --all`'s first step: it drops the scratch
// schemas of benchmarks whose hmperf was killed (and stores those runs as
// interrupted), whose copies' triggers depend on functions the down
// migrations drop. A live benchmark's copies would make a down step fail
// half-way: then it refuses before the first step, naming them.
func sweepBenchmarks(ctx context.Context, t *target, log io.Writer) error {
	conn, err := t.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	swept, err := bench.Sweep(ctx, conn, t.lockPolicy(log))
	if err != nil {
		return fmt.Errorf("migrate down --all: %w", err)
	}
	swept.Log(log, "hmperf migrate")
	if len(swept.InUse) > 0 {
		return fmt.Errorf("migrate down --all: a benchmark is running (scratch schema %s, dropped when it ends); run down --all again after it", strings.Join(swept.InUse, ", "))
	}
	return nil
}

// reportDone prints the state a successful change left, read afresh: after
// `down --all` hmperf's version table no longer exists.
func reportDone(ctx context.Context, w io.Writer, t *target, action string) error {
	st, err := readStatus(ctx, t)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "migrate %s: done; schema version %s; database %s\n", action, versionText(st), st.Summary)
	return nil
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

// confirm asks on a terminal; --yes answers for scripts; with neither it
// refuses, because a schema change must never happen by accident.
func confirm(e env, yes bool, what string) error {
	if yes {
		return nil
	}
	if !e.isTerminal() {
		return errors.New("refusing to change the schema without confirmation: stdin is not a terminal; pass --yes")
	}
	return ask(e, what)
}

// ask asks the person at the terminal whether to go on with what.
func ask(e env, what string) error {
	fmt.Fprintf(e.stderr, "About to %s. Continue? [y/N] ", what)
	answer, _ := bufio.NewReader(e.stdin).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return nil
	}
	return errors.New("cancelled: nothing changed")
}

// migrateFailure explains a failed migration. hmperf's own steps never
// leave the database dirty (each commits with its version or not at all);
// a database another tool left dirty gets the recovery its catalogue says.
// Interrupted (Ctrl-C, SIGTERM), it says which step was rolled back and
// where the schema stands.
func migrateFailure(ctx context.Context, m *migrations.Migrator, action string, cause error) error {
	st, err := m.Status()
	switch {
	case err != nil:
		return fmt.Errorf("migrate %s failed: %v", action, cause)
	case ctx.Err() != nil:
		return fmt.Errorf("migrate %s interrupted: the step in progress was rolled back (%v); schema version %s, database %s; the same command goes on from there",
			action, stepOf(cause), versionText(st), st.Summary)
	case st.Dirty:
		return fmt.Errorf("migrate %s failed: %v; the database is %s: %s", action, cause, st.Summary, st.Next)
	}
	return fmt.Errorf("migrate %s failed: %v", action, cause)
}

// stepOf names the statement a cancelled step was running, else the cause.
func stepOf(cause error) string {
	var se *migrations.StatementError
	if errors.As(cause, &se) {
		return fmt.Sprintf("%s line %d: %s", se.File, se.Line, se.Statement)
	}
	return cause.Error()
}

func versionText(st migrations.Status) string {
	if !st.HasVersion {
		return "none (empty)"
	}
	s := strconv.FormatUint(uint64(st.Version), 10)
	if st.Dirty {
		s += " (DIRTY)"
	}
	return s
}

// readStatus reads the schema state on a plain connection: it writes
// nothing (a Migrator creates its version table), so it also works
// with --read-only, for a role that may only read, and on a database hmperf
// does not manage.
func readStatus(ctx context.Context, t *target) (migrations.Status, error) {
	conn, err := t.connect(ctx)
	if err != nil {
		return migrations.Status{}, err
	}
	defer conn.Close(context.Background())
	return migrations.ReadStatus(ctx, conn, nil)
}

// showStatus prints the state; a dirty database exits 1 so scripts notice.
func showStatus(ctx context.Context, w io.Writer, t *target, asJSON bool) error {
	st, err := readStatus(ctx, t)
	if err != nil {
		return err
	}
	if err := printStatus(w, st, asJSON); err != nil {
		return err
	}
	if st.Dirty {
		return &exitError{code: 1, err: fmt.Errorf("the schema is dirty at version %d", st.Version)}
	}
	return nil
}

func printStatus(w io.Writer, st migrations.Status, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	fmt.Fprintf(w, "database: %s\n", st.Summary)
	fmt.Fprintf(w, "next: %s\n", st.Next)
	fmt.Fprintf(w, "schema version: %s; %d applied, %d pending\n", versionText(st), len(st.Migrations)-st.Pending, st.Pending)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tNAME\tSTATE")
	for _, mg := range st.Migrations {
		fmt.Fprintf(tw, "%04d\t%s\t%s\n", mg.Version, mg.Name, migrationState(st, mg))
	}
	return tw.Flush()
}

func migrationState(st migrations.Status, mg migrations.Migration) string {
	switch {
	case mg.Applied && st.Adopted() && mg.Version <= migrations.BaseVersion:
		return "adopted (the service's, not run by hmperf)"
	case mg.Applied:
		return "applied"
	case st.Dirty && mg.Version == st.Version:
		return "FAILED (dirty)"
	}
	return "pending"
}

// hasSchema reports whether hmperf's schema exists (false when it cannot
// tell: the migrator then says what is wrong).
func hasSchema(ctx context.Context, t *target) bool {
	conn, err := t.connect(ctx)
	if err != nil {
		return true
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var ok bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", migrations.Schema).Scan(&ok); err != nil {
		return true
	}
	return ok
}
