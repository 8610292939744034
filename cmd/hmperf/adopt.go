package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"hmperf/cmd/internal/cmdout"
	"hmperf/migrations"
	"hmperf/queries/catalog"
	"hmperf/queries/lockwait"
)

// adoptWord is what a person types to confirm an adoption.
const adoptWord = "adopt"

// runAdopt checks the service's base tables against hmperf's base
// migrations, lists every difference, records the base as applied without
// running it, and applies hmperf's own migrations on top.
func runAdopt(ctx context.Context, e env, t *target, o migrateOpts) error {
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
		fmt.Fprintf(e.stdout, "nothing to adopt: this database is %s; %s\n", st.Summary, st.Next)
		return nil
	}
	if st.Adopted() && st.State == migrations.StateHmperf {
		// An adoption stopped after it was recorded (killed, or out of
		// --lock-wait) is finished by the same command.
		fmt.Fprintf(e.stdout, "already adopted (%s, from %s %s) at version %d: applying the %d pending migration(s)\n",
			st.Adoption.AdoptedAt, st.Adoption.Tool, st.Adoption.Version, st.Version, st.Pending)
		return applyOwn(ctx, e, t, o)
	}
	check, err := migrations.CheckAdoption(ctx, conn, nil)
	if err != nil {
		return err
	}
	missing, err := catalog.MissingKeys(ctx, conn)
	if err != nil {
		return err
	}
	if err := cmdout.AdoptionCheck(e.stdout, cmdout.AdoptionReport{AdoptionCheck: check, MissingKeys: missing}, o.json); err != nil {
		return err
	}
	if b := check.Blocking(); len(b) > 0 {
		return fmt.Errorf("cannot adopt %s: %d difference(s) hmperf cannot work around (marked BLOCKING above), first %s", t.Describe(), len(b), b[0])
	}
	what := fmt.Sprintf("adopt %s: record its %d base tables as hmperf's base version %d without changing them, then create hmperf's own objects (schema %s and the report's tables)",
		t.Describe(), len(check.Foreign.BaseTables), migrations.BaseVersion, migrations.Schema)
	if err := e.prompt().ConfirmTyped(o.yes, what, adoptWord); err != nil {
		return err
	}
	if err := recordAdoption(ctx, e, t, conn, check); err != nil {
		return err
	}
	return applyOwn(ctx, e, t, o)
}

// recordAdoption writes the adoption under the lock-wait policy: its
// transaction takes the migration lock, which another schema change may
// hold; each retry line names that session, read on a second connection.
func recordAdoption(ctx context.Context, e env, t *target, conn *pgx.Conn, check migrations.AdoptionCheck) error {
	side, err := t.Connect(ctx)
	if err != nil {
		return err
	}
	defer side.Close(context.WithoutCancel(ctx))
	watch := lockwait.BlockersOf(side, conn.PgConn().PID())
	return t.LockPolicy(e.stderr).Run(ctx, "record the adoption (it takes hmperf's migration lock)", watch, func(ctx context.Context) error {
		return migrations.Adopt(ctx, conn, check)
	})
}

// applyOwn applies hmperf's own migrations on an adopted database.
func applyOwn(ctx context.Context, e env, t *target, o migrateOpts) error {
	m, err := t.Migrator(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	m.SetLockWait(t.LockPolicy(e.stderr))
	if err := m.UpContext(ctx); err != nil {
		if errors.As(err, new(*lockwait.ExhaustedError)) {
			// The adoption is recorded and the steps before this one
			// committed: adopting again would find nothing to adopt.
			return fmt.Errorf("migrate adopt: adopted, but then %v (run `hmperf migrate adopt` or `up` again to finish)", err)
		}
		return migrations.Failure(ctx, m, "adopt", err)
	}
	if o.json {
		return nil
	}
	return reportDone(ctx, e.stdout, t, "adopt")
}
