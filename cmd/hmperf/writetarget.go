package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"hmperf/migrations"
	"hmperf/queries/ingest"
)

// generatedTarget decides where generated rows go. --target wins; without
// it, the live tables on a database hmperf created and the sandbox on any
// other (an adopted one included), so sample data never lands among the
// service's rows unless the user asked for it.
func generatedTarget(ctx context.Context, pool *pgxpool.Pool, flag string) (ingest.Target, error) {
	if flag != "" {
		t, err := ingest.ParseTarget(flag)
		if err != nil {
			return 0, fmt.Errorf("%w: --target: %v", errUsage, err)
		}
		return t, nil
	}
	ours, err := createdByHmperf(ctx, pool)
	if err != nil {
		return 0, err
	}
	if ours {
		return ingest.Live, nil
	}
	return ingest.Sandbox, nil
}

// createdByHmperf reports whether hmperf created the database: its version
// table is there and no other tool's is. The database classification
// (empty, hmperf's, another tool's, dirty) is meant to replace this.
func createdByHmperf(ctx context.Context, pool *pgxpool.Pool) (bool, error) {
	var ours, other bool
	err := pool.QueryRow(ctx, `
		SELECT to_regclass('schema_migrations') IS NOT NULL OR to_regclass('hmperf.schema_migrations') IS NOT NULL,
		       to_regclass('_sqlx_migrations') IS NOT NULL`).Scan(&ours, &other)
	if err != nil {
		return false, fmt.Errorf("classify the database: %w", err)
	}
	return ours && !other, nil
}

// checkWritable refuses to write on a schema hmperf has not versioned or
// one left dirty by a failed migration, and names the fix. Every writing
// command calls it before its first write; the migrate command's own
// check is meant to replace its body.
func checkWritable(ctx context.Context, pool *pgxpool.Pool) error {
	st, err := migrations.ReadStatus(ctx, pool, nil)
	if err != nil {
		return err
	}
	switch {
	case st.Dirty:
		return fmt.Errorf("schema is dirty at version %d (a migration failed part-way): repair it, then `hmperf migrate force VERSION` and `hmperf migrate up`", st.Version)
	case !st.HasVersion:
		return errors.New("schema is not versioned by hmperf: run `hmperf migrate adopt` on an existing database or `hmperf migrate up` on an empty one")
	}
	return nil
}
