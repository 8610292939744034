package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// runLocal starts the embedded PostgreSQL with the schema applied and keeps
// it until interrupted, so a DBA can point psql (or a second hmperf) at it.
func runLocal(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "local")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	t, err := startEmbedded(ctx, connFlags{}, e.stderr)
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
