package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

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

// createdByHmperf reports whether hmperf created the database: hmperf
// manages it and did not adopt it from another tool.
func createdByHmperf(ctx context.Context, pool *pgxpool.Pool) (bool, error) {
	st, err := migrations.ReadStatus(ctx, pool, nil)
	if err != nil {
		return false, fmt.Errorf("classify the database: %w", err)
	}
	return ours(st), nil
}

// ours reports whether hmperf created the database: it manages it and did
// not adopt it from another tool.
func ours(st migrations.Status) bool {
	return st.State == migrations.StateHmperf && !st.Adopted()
}

// checkWritable refuses to write on a schema hmperf has not versioned or
// one left dirty by a failed migration, and names the fix. Every writing
// command calls it before its first write.
func checkWritable(ctx context.Context, pool *pgxpool.Pool) error {
	if err := refuseReplica(ctx, pool); err != nil {
		return err
	}
	st, err := migrations.ReadStatus(ctx, pool, nil)
	if err != nil {
		return err
	}
	if st.State != migrations.StateHmperf {
		return fmt.Errorf("refusing to write: this database is %s; %s", st.Summary, st.Next)
	}
	return nil
}

// errReplica is the refusal to write on a replica.
var errReplica = errors.New("refusing to write: this server is a replica (pg_is_in_recovery() is true) and hmperf writes only to a primary; give the primary's --dsn, or list the set and hmperf picks the primary")

// refuseReplica returns errReplica on a replica. A replica would refuse the
// write itself, but only at the first statement, in words about read-only
// transactions; this names the cause before anything starts.
func refuseReplica(ctx context.Context, q interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}) error {
	var replica bool
	if err := q.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&replica); err != nil {
		return fmt.Errorf("ask the server whether it is a replica: %w", err)
	}
	if replica {
		return errReplica
	}
	return nil
}
