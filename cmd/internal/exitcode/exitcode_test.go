package exitcode

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// TestReport: each kind of error gets its exit status and one line without
// the usage marker; no error and a help request print nothing.
func TestReport(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		err    error
		code   int
		stderr string
	}{
		{"no error", nil, 0, ""},
		{"help", fmt.Errorf("flags: %w", pflag.ErrHelp), 0, ""},
		{"usage", fmt.Errorf("%w: migrate needs an action", ErrUsage), 2, "hmperf: migrate needs an action\n"},
		{"exit status", &Error{Code: 3, Err: errors.New("no answer")}, 3, "hmperf: no answer\n"},
		{"wrapped exit status", fmt.Errorf("alerts: %w", &Error{Code: 2, Err: errors.New("critical")}), 2, "hmperf: alerts: critical\n"},
		{"other", errors.New("boom"), 1, "hmperf: boom\n"},
	} {
		var b strings.Builder
		if got := Report(&b, c.err); got != c.code || b.String() != c.stderr {
			t.Errorf("%s: exit %d, stderr %q; want %d, %q", c.name, got, b.String(), c.code, c.stderr)
		}
	}
}
