// Package migratecmd is what `hmperf migrate` does once its command line is
// parsed and its server resolved: read the schema's state, change it one
// migration at a time after a confirmation, adopt the service's own
// database, and report the state the change left.
package migratecmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/jackc/pgx/v5"

	"hmperf/cmd/internal/cmdout"
	"hmperf/cmd/internal/dbtarget"
	"hmperf/cmd/internal/exitcode"
	"hmperf/cmd/internal/prompt"
	"hmperf/migrations"
	"hmperf/queries/bench"
	"hmperf/queries/catalog"
	"hmperf/queries/lockwait"
)

// IO is where a migrate action talks and what its command line answered.
type IO struct {
	Out, Err io.Writer
	Ask      prompt.Prompt
	Yes      bool
	JSON     bool
}

// Run applies a to t: the status, an adoption, or a change confirmed first.
func Run(ctx context.Context, e IO, t *dbtarget.Target, a Action) error {
	if !a.Writes {
		return showStatus(ctx, e.Out, t, e.JSON)
	}
	if a.Name == "adopt" {
		return runAdopt(ctx, e, t)
	}
	if a.Name == "down" && a.All {
		// A down --all that already removed hmperf's schema (and was
		// killed before it said so) finds nothing left: run again, it
		// ends as the first run would have.
		if !t.HasSchema(ctx) {
			return reportDone(ctx, e.Out, t, "down --all (nothing of hmperf's was left)")
		}
	}
	m, err := t.Migrator(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	m.SetLockWait(t.LockPolicy(e.Err))
	if err := e.Ask.Confirm(e.Yes, a.describe(t)); err != nil {
		return err
	}
	if a.Name == "down" && a.All {
		if err := sweepBenchmarks(ctx, t, e.Err); err != nil {
			return err
		}
	}
	if err := a.apply(ctx, m); err != nil {
		return migrations.Failure(ctx, m, a.Name, err)
	}
	return reportDone(ctx, e.Out, t, a.Name)
}

// sweepBenchmarks is `down --all`'s first step (bench.SweepBeforeDown), on
// a connection of its own.
func sweepBenchmarks(ctx context.Context, t *dbtarget.Target, log io.Writer) error {
	conn, err := t.Connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return bench.SweepBeforeDown(ctx, conn, t.LockPolicy(log), log)
}

// reportDone prints the state a successful change left, read afresh: after
// `down --all` hmperf's version table no longer exists.
func reportDone(ctx context.Context, w io.Writer, t *dbtarget.Target, action string) error {
	st, err := t.ReadStatus(ctx)
	if err != nil {
		return err
	}
	return cmdout.MigrateDone(w, action, st)
}

// Action is one migrate action with its arguments.
type Action struct {
	Name   string
	Writes bool
	N      int
	V      int
	All    bool
}

// Parse reads the action and its arguments from rest (`down 2`, `goto 5`);
// all is --all.
func Parse(rest []string, all bool) (Action, error) {
	a := Action{Name: rest[0], Writes: rest[0] != "status", All: all}
	argc := map[string]int{"status": 0, "adopt": 0, "up": 0, "down": 1, "goto": 1, "force": 1}
	want, ok := argc[a.Name]
	if !ok {
		return a, fmt.Errorf("%w: unknown migrate action %q (status, adopt, up, down, goto, force)", exitcode.ErrUsage, a.Name)
	}
	switch {
	case a.Name == "down" && all:
		want = 0
	case a.Name == "down" && len(rest) == 1:
		// `migrate down` alone reverts one step: N of `down [N]`
		// defaults to 1.
		rest = append(rest, "1")
	}
	if len(rest)-1 != want {
		return a, fmt.Errorf("%w: migrate %s takes %d argument(s), got %d", exitcode.ErrUsage, a.Name, want, len(rest)-1)
	}
	if want == 1 {
		n, err := strconv.Atoi(rest[1])
		if err != nil {
			return a, fmt.Errorf("%w: migrate %s: %q is not a number", exitcode.ErrUsage, a.Name, rest[1])
		}
		a.N, a.V = n, n
		// force V takes -1 ("no version"), as golang-migrate does.
		if (a.Name == "down" && n < 1) || (a.Name == "goto" && n < 0) {
			want := map[string]string{"down": "a positive count", "goto": "a version of 0 or more"}[a.Name]
			return a, fmt.Errorf("%w: migrate: %s must be %s (got %s)", exitcode.ErrUsage, a.Name, want, rest[1])
		}
	}
	return a, nil
}

// describe is the question a person confirms before a changes t.
func (a Action) describe(t *dbtarget.Target) string {
	switch {
	case a.Name == "up":
		return fmt.Sprintf("apply every pending migration to %s", t.Describe())
	case a.Name == "down" && a.All:
		return fmt.Sprintf("revert EVERY migration hmperf applied to %s and remove its schema (drops all hmperf tables and their data; an adopted database keeps the service's tables)", t.Describe())
	case a.Name == "down":
		return fmt.Sprintf("revert the last %d migration(s) of %s (drops their objects and data)", a.N, t.Describe())
	case a.Name == "goto":
		return fmt.Sprintf("migrate %s to version %d", t.Describe(), a.V)
	default:
		return fmt.Sprintf("record version %d on %s without running any migration", a.V, t.Describe())
	}
}

// apply runs the action one migration at a time; ctx (Ctrl-C) stops a
// wait for a lock.
func (a Action) apply(ctx context.Context, m *migrations.Migrator) error {
	switch {
	case a.Name == "up":
		return m.UpContext(ctx)
	case a.Name == "down" && a.All:
		return m.DownAllContext(ctx)
	case a.Name == "down":
		return m.DownContext(ctx, a.N)
	case a.Name == "goto":
		return m.GotoContext(ctx, uint(a.V))
	default:
		return m.ForceContext(ctx, a.V)
	}
}

// showStatus prints the state; a dirty database exits 1 so scripts notice.
func showStatus(ctx context.Context, w io.Writer, t *dbtarget.Target, asJSON bool) error {
	st, err := t.ReadStatus(ctx)
	if err != nil {
		return err
	}
	if err := cmdout.MigrationStatus(w, st, asJSON); err != nil {
		return err
	}
	if st.Dirty {
		return &exitcode.Error{Code: 1, Err: fmt.Errorf("the schema is dirty at version %d", st.Version)}
	}
	return nil
}

// adoptWord is what a person types to confirm an adoption.
const adoptWord = "adopt"

// runAdopt checks the service's base tables against hmperf's base
// migrations, lists every difference, records the base as applied without
// running it, and applies hmperf's own migrations on top.
func runAdopt(ctx context.Context, e IO, t *dbtarget.Target) error {
	if err := t.MayMigrate(ctx); err != nil {
		return err
	}
	conn, err := t.Connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	st, err := migrations.ReadStatus(ctx, conn, nil)
	if err != nil {
		return err
	}
	if st.Adopted() && st.State == migrations.StateHmperf && st.Pending == 0 {
		// Adopt run again (perhaps because the first was killed after its
		// last step) has what it wants: not an error.
		fmt.Fprintf(e.Out, "nothing to adopt: this database is %s; %s\n", st.Summary, st.Next)
		return nil
	}
	if st.Adopted() && st.State == migrations.StateHmperf {
		// An adoption stopped after it was recorded (killed, or out of
		// --lock-wait) is finished by the same command.
		fmt.Fprintf(e.Out, "already adopted (%s, from %s %s) at version %d: applying the %d pending migration(s)\n",
			st.Adoption.AdoptedAt, st.Adoption.Tool, st.Adoption.Version, st.Version, st.Pending)
		return applyOwn(ctx, e, t)
	}
	check, err := migrations.CheckAdoption(ctx, conn, nil)
	if err != nil {
		return err
	}
	missing, err := catalog.MissingKeys(ctx, conn)
	if err != nil {
		return err
	}
	if err := cmdout.AdoptionCheck(e.Out, cmdout.AdoptionReport{AdoptionCheck: check, MissingKeys: missing}, e.JSON); err != nil {
		return err
	}
	if b := check.Blocking(); len(b) > 0 {
		return fmt.Errorf("cannot adopt %s: %d difference(s) hmperf cannot work around (marked BLOCKING above), first %s", t.Describe(), len(b), b[0])
	}
	what := fmt.Sprintf("adopt %s: record its %d base tables as hmperf's base version %d without changing them, then create hmperf's own objects (schema %s and the report's tables)",
		t.Describe(), len(check.Foreign.BaseTables), migrations.BaseVersion, migrations.Schema)
	if err := e.Ask.ConfirmTyped(e.Yes, what, adoptWord); err != nil {
		return err
	}
	if err := recordAdoption(ctx, e, t, conn, check); err != nil {
		return err
	}
	return applyOwn(ctx, e, t)
}

// recordAdoption writes the adoption under the lock-wait policy: its
// transaction takes the migration lock, which another schema change may
// hold; each retry line names that session, read on a second connection.
func recordAdoption(ctx context.Context, e IO, t *dbtarget.Target, conn *pgx.Conn, check migrations.AdoptionCheck) error {
	side, err := t.Connect(ctx)
	if err != nil {
		return err
	}
	defer side.Close(context.WithoutCancel(ctx))
	watch := lockwait.BlockersOf(side, conn.PgConn().PID())
	return t.LockPolicy(e.Err).Run(ctx, "record the adoption (it takes hmperf's migration lock)", watch, func(ctx context.Context) error {
		return migrations.Adopt(ctx, conn, check)
	})
}

// applyOwn applies hmperf's own migrations on an adopted database.
func applyOwn(ctx context.Context, e IO, t *dbtarget.Target) error {
	m, err := t.Migrator(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	m.SetLockWait(t.LockPolicy(e.Err))
	if err := m.UpContext(ctx); err != nil {
		if errors.As(err, new(*lockwait.ExhaustedError)) {
			// The adoption is recorded and the steps before this one
			// committed: adopting again would find nothing to adopt.
			return fmt.Errorf("migrate adopt: adopted, but then %v (run `hmperf migrate adopt` or `up` again to finish)", err)
		}
		return migrations.Failure(ctx, m, "adopt", err)
	}
	if e.JSON {
		return nil
	}
	return reportDone(ctx, e.Out, t, "adopt")
}
