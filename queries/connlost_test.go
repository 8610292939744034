package queries_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"

	"hmperf/queries"
)

// TestIsConnectionLost: a connection gone away, however the driver says
// it, is told apart from a refusal by the server and from hmperf stopping
// its own work.
func TestIsConnectionLost(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"backend terminated", &pgconn.PgError{Code: pgerrcode.AdminShutdown}, true},
		{"server crashed", fmt.Errorf("batch 3: %w", &pgconn.PgError{Code: pgerrcode.CrashShutdown}), true},
		{"connection exception", &pgconn.PgError{Code: pgerrcode.ConnectionFailure}, true},
		{"statement cache after a restart", fmt.Errorf("failed to deallocate cached statement(s): %w", pgconn.ErrConnClosed), true},
		{"socket closed mid-read", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), true},
		{"unique violation", &pgconn.PgError{Code: pgerrcode.UniqueViolation}, false},
		{"lock timeout", &pgconn.PgError{Code: pgerrcode.LockNotAvailable}, false},
		{"ctrl-c", fmt.Errorf("batch 2: %w", context.Canceled), false},
		{"something else", errors.New("no such file"), false},
	} {
		if got := queries.IsConnectionLost(tt.err); got != tt.want {
			t.Errorf("%s: IsConnectionLost(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}
