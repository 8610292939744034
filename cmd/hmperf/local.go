package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/queries/pglaunch"
)

// runLocal starts the embedded PostgreSQL with the schema applied, and with
// --replicas N that many streaming replicas of it, and keeps them until
// interrupted, so a DBA can point psql (or a second hmperf) at them.
func runLocal(ctx context.Context, e env, args []string) error {
	var replicas int
	fs := newFlagSet(e, "local")
	fs.IntVar(&replicas, "replicas", 0, "also start N streaming replicas of the primary (pg_basebackup -R), each with its own data directory and private socket; one connection string per server is printed, primary first")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if replicas > 0 {
		return runLocalSet(ctx, e, replicas)
	}
	t, err := startEmbedded(ctx, connFlags{command: "local"}, e.stderr)
	if err != nil {
		return err
	}
	defer t.Close()
	if err := migrateEmbedded(ctx, t); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s\n", t.cluster.DSN("postgres"))
	fmt.Fprintln(e.stderr, "hmperf: embedded PostgreSQL ready (connection string above); ^C stops it and removes its files")
	<-ctx.Done()
	return nil
}

// runLocalSet is `local --replicas n`: a primary with the schema applied
// and n replicas that have replayed it, until interrupted.
func runLocalSet(ctx context.Context, e env, n int) (err error) {
	fmt.Fprintf(e.stderr, "hmperf: starting a throwaway embedded PostgreSQL primary and %d streaming %s, discarded on exit\n", n, plural(n, "replica", "replicas"))
	set, err := pglaunch.StartSet(ctx, pglaunch.Options{Fetch: pglaunch.FetchOptions{Progress: e.stderr}}, n)
	if err != nil {
		return err
	}
	defer func() {
		if serr := set.Stop(); serr != nil {
			fmt.Fprintf(e.stderr, "hmperf: stopping the embedded servers: %v\n", serr)
		}
	}()
	t, err := embeddedTarget(set.Primary, connFlags{command: "local"})
	if err != nil {
		return err
	}
	if err := migrateEmbedded(ctx, t); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := set.WaitCaughtUp(wctx); err != nil {
		return err
	}
	for _, c := range set.All() {
		fmt.Fprintf(e.stdout, "%s\n", c.DSN("postgres"))
	}
	fmt.Fprintf(e.stderr, "hmperf: primary and %d %s ready (connection strings above, primary first); ^C stops them and removes their files\n", n, plural(n, "replica", "replicas"))
	<-ctx.Done()
	return nil
}

// migrateEmbedded applies every migration to hmperf's own throwaway server,
// which needs no confirmation: nobody else's data lives there.
func migrateEmbedded(ctx context.Context, t *target) error {
	if !t.Embedded() {
		return errors.New("internal: migrateEmbedded on a configured server")
	}
	m, err := t.migrator(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	if err := m.Up(); err != nil {
		return fmt.Errorf("apply migrations to the embedded server: %w", err)
	}
	return createStatStatements(ctx, t)
}

// createStatStatements creates the pg_stat_statements extension in the
// embedded database when its server preloaded the library, so that
// `hmperf monitor` can show insert speeds. hmperf owns that server; on a
// user's database it never creates an extension.
func createStatStatements(ctx context.Context, t *target) error {
	cfg := t.cfg.Copy()
	delete(cfg.RuntimeParams, "default_transaction_read_only") // as the migrator does
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return t.connError(err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, `DO $$ BEGIN
		IF 'pg_stat_statements' = ANY (string_to_array(replace(current_setting('shared_preload_libraries'), ' ', ''), ',')) THEN
			CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
		END IF; END $$`)
	if err != nil {
		return fmt.Errorf("create pg_stat_statements in the embedded server: %w", err)
	}
	return nil
}
