package activity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/queries"
)

// ErrGone is returned by Cancel and Terminate when the session asked for
// has ended, or its pid now belongs to another process.
var ErrGone = errors.New("the session has ended")

// Cancel asks the backend pid, started at start, to cancel its current
// query (pg_cancel_backend). start guards against a pid reused by a later
// backend since it was read.
func Cancel(ctx context.Context, db queries.DBTX, pid int, start time.Time) error {
	return signal(ctx, db, "pg_cancel_backend", pid, start)
}

// Terminate ends the backend pid, started at start, rolling back its
// transaction (pg_terminate_backend).
func Terminate(ctx context.Context, db queries.DBTX, pid int, start time.Time) error {
	return signal(ctx, db, "pg_terminate_backend", pid, start)
}

func signal(ctx context.Context, db queries.DBTX, fn string, pid int, start time.Time) error {
	var ok bool
	// fn is one of two constants above, never input.
	err := db.QueryRow(ctx, `SELECT `+fn+`(a.pid) FROM pg_stat_activity a
		WHERE a.pid = $1 AND a.backend_start = $2`, pid, start).Scan(&ok)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("pid %d: %w", pid, ErrGone)
	}
	if err != nil {
		return fmt.Errorf("%s(%d): %w", fn, pid, err)
	}
	if !ok {
		return fmt.Errorf("%s(%d): the server did not signal it (ended meanwhile?)", fn, pid)
	}
	return nil
}
