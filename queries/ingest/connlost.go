package ingest

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"

	"hmperf/queries"
)

// ConnectionLost is the one line an ingest whose connection went away (a
// server restart, a terminated backend) ends with, instead of the driver's
// message: what was stored, and that the same command may simply run
// again. It may: every batch is one transaction, so what was not committed
// was rolled back, and records already stored count as duplicates on every
// table (ON CONFLICT, or the anti-join where no unique key exists), so a
// re-run stores the rest and nothing twice. Other errors are returned as
// they are.
func ConnectionLost(err error, what string, t Totals) error {
	if !queries.IsConnectionLost(err) {
		return err
	}
	cause := "the connection was closed"
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		cause = pe.Message
	}
	return fmt.Errorf("%s: lost the connection to the database (%s) after %d batch(es) with %d rows were committed (a batch cut off at its commit may be stored too); running the same command again is safe: what is stored counts as duplicates, the rest is added",
		what, cause, t.Batches, t.Inserted)
}
