package dashsource

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"hmperf/migrations"
	"hmperf/queries"
	"hmperf/tui/source"
)

// MonitoringRoleFix is what a role refused a read is told to get.
const MonitoringRoleFix = `grant the role what README's "A monitoring role" lists`

// Explain turns a poll's error into what the dashboard can say in words:
// a missing table, function, schema or column, or a refused privilege,
// becomes a *source.ErrMissing naming the object and the command that adds
// it; a cancelled statement or a spent deadline says it timed out. Other
// errors pass unchanged.
func Explain(ctx context.Context, db queries.DBTX, err error) error {
	var pe *pgconn.PgError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.DeadlineExceeded) || queries.Classify(err) == queries.KindCanceled:
		return fmt.Errorf("timed out: %w", err)
	case !errors.As(err, &pe):
		return err
	case queries.IsUndefined(err):
		return &source.ErrMissing{Object: pe.Message, Fix: migrateFix(ctx, db)}
	case queries.IsPrivilege(err):
		return &source.ErrMissing{Object: pe.Message, Fix: MonitoringRoleFix, Denied: true}
	}
	return err
}

// migrateFix is the command that adds hmperf's objects to the database, by
// its classification: `migrate adopt` first where another tool (sqlx)
// built the schema, the recovery where a migration failed halfway, else
// `migrate up`.
func migrateFix(ctx context.Context, db queries.DBTX) string {
	// The poll's own context may be what ran out.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	st, err := migrations.ReadStatus(ctx, db, nil)
	switch {
	case err != nil:
	case st.State == migrations.StateForeign:
		return "hmperf migrate adopt"
	case st.State == migrations.StateDirty:
		return st.Next
	}
	return "hmperf migrate up"
}
