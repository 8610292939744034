package migratecmd

import (
	"errors"
	"strings"
	"testing"

	"hmperf/cmd/internal/exitcode"
)

// TestParse: each action takes its arguments, `down` defaults to one step,
// and a wrong count, word or number is a usage error naming it.
func TestParse(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args    string
		all     bool
		want    Action
		wantErr string
	}{
		{args: "status", want: Action{Name: "status"}},
		{args: "up", want: Action{Name: "up", Writes: true}},
		{args: "down", want: Action{Name: "down", Writes: true, N: 1, V: 1}},
		{args: "down 3", want: Action{Name: "down", Writes: true, N: 3, V: 3}},
		{args: "down", all: true, want: Action{Name: "down", Writes: true, All: true}},
		{args: "force -1", want: Action{Name: "force", Writes: true, N: -1, V: -1}},
		{args: "goto 0", want: Action{Name: "goto", Writes: true}},
		{args: "down 2", all: true, wantErr: "migrate down takes 0 argument(s), got 1"},
		{args: "down 0", wantErr: "migrate: down must be a positive count (got 0)"},
		{args: "goto -1", wantErr: "migrate: goto must be a version of 0 or more (got -1)"},
		{args: "goto x", wantErr: `migrate goto: "x" is not a number`},
		{args: "up 1", wantErr: "migrate up takes 0 argument(s), got 1"},
		{args: "sideways", wantErr: `unknown migrate action "sideways"`},
	} {
		got, err := Parse(strings.Fields(c.args), c.all)
		switch {
		case c.wantErr != "" && (err == nil || !errors.Is(err, exitcode.ErrUsage) || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("Parse(%q, all=%v): error %v, want a usage error with %q", c.args, c.all, err, c.wantErr)
		case c.wantErr == "" && (err != nil || got != c.want):
			t.Errorf("Parse(%q, all=%v) = %+v, %v; want %+v", c.args, c.all, got, err, c.want)
		}
	}
}
