package ingestcmd

import (
	"errors"
	"testing"

	"hmperf/cmd/internal/exitcode"
)

// TestCheck: exactly one of --sample and --file, else a usage error.
func TestCheck(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		o    Options
		ok   bool
	}{
		{"sample", Options{Sample: 5}, true},
		{"file", Options{File: "-"}, true},
		{"neither", Options{}, false},
		{"both", Options{Sample: 5, File: "x.json"}, false},
	} {
		err := c.o.Check()
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, exitcode.ErrUsage)) {
			t.Errorf("%s: Check() = %v, want ok=%v or a usage error", c.name, err, c.ok)
		}
	}
}
