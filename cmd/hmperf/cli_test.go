package main

import (
	"context"
	"strings"
	"testing"

	"hmperf/queries/pgtest"
)

func TestCommandLine(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   []string
		stderr   string
		noStdout bool
	}{
		{"help lists every command", []string{"--help"}, 0,
			[]string{"migrate", "ingest", "bench", "alerts", "monitor", "indexes", "local", "completion", "--dsn", "--interval"}, "", false},
		{"-h too", []string{"-h"}, 0, []string{"Available Commands"}, "", false},
		{"help at the second level lists actions and flags", []string{"migrate", "--help"}, 0,
			[]string{"adopt", "status", "force", "--all", "Global Flags", "--dsn"}, "", false},
		{"help at the third level", []string{"migrate", "down", "-h"}, 0, []string{"--all", "--yes"}, "", false},
		{"help of a command with its own flags", []string{"bench", "--help"}, 0, []string{"--table", "--rows"}, "", false},
		{"version flag", []string{"--version"}, 0, []string{"hmperf "}, "", false},
		{"version command", []string{"version"}, 0, []string{"hmperf "}, "", false},
		{"bash completion", []string{"completion", "bash"}, 0, []string{"bash completion", "__hmperf"}, "", false},
		{"zsh completion", []string{"completion", "zsh"}, 0, []string{"#compdef hmperf"}, "", false},
		{"fish completion", []string{"completion", "fish"}, 0, []string{"complete -c hmperf"}, "", false},
		{"a mistyped command is suggested", []string{"migrat", "status"}, 2, nil, `did you mean "migrate"`, true},
		{"a mistyped action is named", []string{"migrate", "stauts"}, 2, nil, `unknown migrate action "stauts"`, true},
		{"a flag a command does not take", []string{"alerts", "--rows", "5"}, 2, nil, "hmperf: alerts: unknown flag: --rows", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := runCmd(ctx, "", tc.args...)
			if r.code != tc.code {
				t.Fatalf("%v: exit %d, want %d\nstdout: %s\nstderr: %s", tc.args, r.code, tc.code, r.stdout, r.stderr)
			}
			for _, w := range tc.stdout {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("%v: stdout lacks %q:\n%s", tc.args, w, r.stdout)
				}
			}
			if !strings.Contains(r.stderr, tc.stderr) {
				t.Errorf("%v: stderr %q lacks %q", tc.args, r.stderr, tc.stderr)
			}
			if tc.noStdout && r.stdout != "" {
				t.Errorf("%v: printed %q on stdout for an error", tc.args, r.stdout)
			}
		})
	}
}

// TestGlobalFlagsEitherSide: --dsn and the other global flags work before
// the command, between command and action, and after them.
func TestGlobalFlagsEitherSide(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewMigratedDB(t)
	for _, args := range [][]string{
		{"--dsn", dsn, "migrate", "status"},
		{"--dsn=" + dsn, "--read-only", "migrate", "status", "--json"},
		{"migrate", "--dsn", dsn, "status"},
		{"migrate", "status", "--dsn", dsn},
		{"--json", "--dsn", dsn, "alerts"},
	} {
		if r := runCmd(context.Background(), "", args...); r.code != 0 {
			t.Errorf("%q: exit %d\n%s", args, r.code, r.stderr)
		}
	}
}
