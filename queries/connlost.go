package queries

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// IsConnectionLost reports whether err is the connection to the server
// going away rather than the server refusing a statement: a terminated
// backend (pg_terminate_backend, a shutdown or a crash of the server), a
// closed or reset socket, or a connection that can no longer be made. What
// a transaction had not committed is then rolled back by the server.
func IsConnectionLost(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false // hmperf stopped it (Ctrl-C, a timeout): the connection is fine
	}
	switch k := Classify(err); {
	case k == KindConnection:
		return true
	case k != KindNone:
		return false
	}
	var connect *pgconn.ConnectError
	var netErr net.Error
	return errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.As(err, &connect) || errors.As(err, &netErr)
}
