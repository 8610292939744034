// Package writepolicy decides whether and where hmperf may write on a
// server: never on a replica, never on a schema hmperf has not versioned or
// one left dirty, and generated rows into the live tables only on a
// database hmperf created.
package writepolicy

import (
	"context"
	"errors"
	"fmt"

	"hmperf/migrations"
	"hmperf/queries"
	"hmperf/queries/ingest"
)

// Generated decides where generated rows go when the user did not say
// (--target): the live tables on a database hmperf created and the sandbox
// on any other (an adopted one included), so sample data never lands among
// the service's rows unless the user asked for it.
func Generated(ctx context.Context, db queries.DBTX) (ingest.Target, error) {
	ours, err := CreatedByHmperf(ctx, db)
	if err != nil {
		return 0, err
	}
	if ours {
		return ingest.Live, nil
	}
	return ingest.Sandbox, nil
}

// CreatedByHmperf reports whether hmperf created the database: hmperf
// manages it and did not adopt it from another tool.
func CreatedByHmperf(ctx context.Context, db queries.DBTX) (bool, error) {
	st, err := migrations.ReadStatus(ctx, db, nil)
	if err != nil {
		return false, fmt.Errorf("classify the database: %w", err)
	}
	return Ours(st), nil
}

// Ours reports whether hmperf created the database: it manages it and did
// not adopt it from another tool.
func Ours(st migrations.Status) bool {
	return st.State == migrations.StateHmperf && !st.Adopted()
}

// CheckWritable refuses to write on a replica, on a schema hmperf has not
// versioned or one left dirty by a failed migration, and names the fix.
// Every writing command calls it before its first write.
func CheckWritable(ctx context.Context, db queries.DBTX) error {
	if err := RefuseReplica(ctx, db); err != nil {
		return err
	}
	st, err := migrations.ReadStatus(ctx, db, nil)
	if err != nil {
		return err
	}
	if st.State != migrations.StateHmperf {
		return fmt.Errorf("refusing to write: this database is %s; %s", st.Summary, st.Next)
	}
	return nil
}

// ErrReplica is the refusal to write on a replica.
var ErrReplica = errors.New("refusing to write: this server is a replica (pg_is_in_recovery() is true) and hmperf writes only to a primary; give the primary's --dsn, or list the set and hmperf picks the primary")

// RefuseReplica returns ErrReplica on a replica. A replica would refuse the
// write itself, but only at the first statement, in words about read-only
// transactions; this names the cause before anything starts.
func RefuseReplica(ctx context.Context, db queries.DBTX) error {
	replica, err := queries.IsReplica(ctx, db)
	if err != nil {
		return fmt.Errorf("ask the server whether it is a replica: %w", err)
	}
	if replica {
		return ErrReplica
	}
	return nil
}
