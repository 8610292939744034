// Package exitcode turns the error a command returned into hmperf's exit
// status and the one line it prints on stderr.
package exitcode

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"hmperf/cmd/internal/cmdout"
	"hmperf/queries"
)

// ErrUsage marks a command-line mistake (exit status 2).
var ErrUsage = errors.New("usage")

// Error carries a specific exit status (alerts uses 1–3 as monitoring
// plugins do).
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Report prints err on stderr as one line, without the "usage: " marker
// and with a hint where a privilege was missing, and returns the exit
// status: 0 for no error or a help request, Error's code, 2 for a usage
// mistake, else 1.
func Report(stderr io.Writer, err error) int {
	if err == nil || errors.Is(err, pflag.ErrHelp) {
		return 0
	}
	code := 1
	var ee *Error
	if errors.As(err, &ee) {
		code = ee.Code
	} else if errors.Is(err, ErrUsage) {
		code = 2
	}
	if msg := strings.TrimPrefix(queries.Plain(err), ErrUsage.Error()+": "); msg != "" {
		fmt.Fprintf(stderr, "hmperf: %s%s\n", msg, cmdout.PrivilegeHint(err))
	}
	return code
}
