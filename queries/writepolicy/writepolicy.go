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

// CheckMonitor refuses to sample the service's writes into a database where
// the samples cannot be stored: a replica, or a schema hmperf does not
// manage (the service's own database is adopted first).
func CheckMonitor(ctx context.Context, db queries.DBTX) error {
	if err := RefuseReplica(ctx, db); err != nil {
		return fmt.Errorf("monitor stores its samples: %w (the dashboard on a replica reads the samples the primary's monitor stored and replicated)", err)
	}
	st, err := migrations.ReadStatus(ctx, db, nil)
	if err != nil {
		return fmt.Errorf("classify the database: %w", err)
	}
	return st.RequireManaged("hmperf monitor")
}

// OpenIngester opens an ingester on db after everything that decides
// whether and where it may write, all before the first row: the schema
// may be written, pick says the target (called only then), the role holds
// the privileges that target needs (who names the run in the refusal), and
// users are created where CreatesUsers says (asked: --create-users).
func OpenIngester(ctx context.Context, db queries.DBTX, who string, pick func() (ingest.Target, error), asked bool, opts ingest.Options) (*ingest.Ingester, error) {
	if err := CheckWritable(ctx, db); err != nil {
		return nil, err
	}
	target, err := pick()
	if err != nil {
		return nil, err
	}
	created, err := CreatedByHmperf(ctx, db)
	if err != nil {
		return nil, err
	}
	opts.Target = target
	opts.CreateUsers = ingest.CreatesUsers(target, created, asked)
	if err := queries.Require(ctx, db, who, ingest.Needs(target)); err != nil {
		return nil, err
	}
	return ingest.Open(ctx, db, opts)
}
