package main

import (
	"context"
	"errors"
	"fmt"
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
	return nil
}
