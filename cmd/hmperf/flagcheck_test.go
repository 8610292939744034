package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TestInvalidFlagValuesAreRefused: every duration and count flag refuses
// an invalid value before anything connects, with the one message shape
// and the usage exit status; the values the help gives a meaning pass.
func TestInvalidFlagValuesAreRefused(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--interval", "0"}, "dashboard: --interval must be a duration from 500ms to 10s (got 0s)"},
		{[]string{"--interval", "-1s"}, "dashboard: --interval must be a duration from 500ms to 10s (got -1s)"},
		{[]string{"--interval", "11s"}, "dashboard: --interval must be a duration from 500ms to 10s (got 11s)"},
		{[]string{"--bench-rows", "0"}, "dashboard: --bench-rows must be a positive count (got 0)"},
		{[]string{"--bench-reps", "-1"}, "dashboard: --bench-reps must be a count of 0 or more (got -1)"},
		{[]string{"--sample-rate", "-5"}, "dashboard: --sample-rate must be a positive count (got -5)"},
		{[]string{"bench", "--max-time", "-1s"}, "bench: --max-time must be a positive duration (got -1s)"},
		{[]string{"bench", "--max-time", "0"}, "bench: --max-time must be a positive duration (got 0s)"},
		{[]string{"bench", "--rows", "0"}, "bench: --rows must be a positive count (got 0)"},
		{[]string{"bench", "--rows", "-3"}, "bench: --rows must be a positive count (got -3)"},
		{[]string{"bench", "--reps", "0"}, "bench: --reps must be a positive count or auto (got 0)"},
		{[]string{"bench", "--reps", "-2"}, "bench: --reps must be a positive count or auto (got -2)"},
		{[]string{"bench", "--ci-width", "0"}, "bench: --ci-width must be a positive number (got 0)"},
		{[]string{"bench", "--connect-timeout", "0"}, "bench: --connect-timeout must be a positive duration (got 0s)"},
		{[]string{"bench", "--lock-timeout", "-1s"}, "bench: --lock-timeout must be a duration of 0 or more (got -1s)"},
		{[]string{"bench", "--lock-wait", "-1s"}, "bench: --lock-wait must be a duration of 0 or more (got -1s)"},
		{[]string{"ingest", "--sample", "-5"}, "ingest: --sample must be a positive count (got -5)"},
		{[]string{"ingest", "--sample", "0"}, "ingest: --sample must be a positive count (got 0)"},
		{[]string{"ingest", "--sample", "10", "--batch-size", "0"}, "ingest: --batch-size must be a positive count (got 0)"},
		{[]string{"ingest", "--sample", "10", "--dup-rate", "1"}, "ingest: --dup-rate must be a share from 0 up to but not including 1 (got 1)"},
		{[]string{"ingest", "--sample", "10", "--invalid-rate", "-0.1"}, "ingest: --invalid-rate must be a share from 0 to 1 (got -0.1)"},
		{[]string{"monitor", "--interval", "0"}, "monitor: --interval must be a positive duration (got 0s)"},
		{[]string{"monitor", "--interval", "-1s"}, "monitor: --interval must be a positive duration (got -1s)"},
		{[]string{"indexes", "process", "--limit", "-1"}, "indexes: --limit must be a count of 0 or more (got -1)"},
		{[]string{"indexes", "process", "--backoff", "0"}, "indexes: --backoff must be a positive duration (got 0s)"},
		{[]string{"local", "--replicas", "9"}, "local: --replicas must be a count from 0 to 8 (got 9)"},
		{[]string{"migrate", "status", "--connect-timeout", "-1s"}, "migrate: --connect-timeout must be a positive duration (got -1s)"},
		{[]string{"migrate", "down", "0", "--yes"}, "migrate: down must be a positive count (got 0)"},
		{[]string{"migrate", "down", "-2", "--yes"}, "migrate: down must be a positive count (got -2)"},
		{[]string{"migrate", "goto", "-1", "--yes"}, "migrate: goto must be a version of 0 or more (got -1)"},
		{[]string{"alerts", "--connect-timeout", "0"}, "alerts: --connect-timeout must be a positive duration (got 0s)"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			args := c.args
			if args[0] != "local" {
				// A server that cannot answer: the check comes first.
				args = append(args, "--dsn", "postgres://nowhere.invalid/db")
			}
			r := runCmd(ctx, "", args...)
			if r.code != 2 || r.stderr != "hmperf: "+c.want+"\n" {
				t.Errorf("exit %d, stderr %q; want exit 2, %q", r.code, r.stderr, "hmperf: "+c.want+"\n")
			}
		})
	}
}

// TestEveryNumericFlagHasARule: no command declares a duration, count or
// rate flag that checkFlags does not check (a seed takes any value).
func TestEveryNumericFlagHasARule(t *testing.T) {
	t.Parallel()
	root := newRootCommand(env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard})
	numeric := 0
	for _, c := range allCommands(root) {
		for _, fs := range []*pflag.FlagSet{c.LocalFlags(), c.InheritedFlags()} {
			fs.VisitAll(func(f *pflag.Flag) {
				if _, ok := numericValue(fs, f); !ok || f.Name == "seed" {
					return
				}
				numeric++
				if _, ok := ruleFor(topName(c), f.Name); !ok {
					t.Errorf("%s --%s has no rule in flagRules", c.CommandPath(), f.Name)
				}
			})
		}
	}
	if numeric == 0 {
		t.Fatal("found no numeric flag: the walk over the command tree saw nothing")
	}
}

// allCommands is root and every command under it.
func allCommands(root *cobra.Command) []*cobra.Command {
	out := []*cobra.Command{root}
	for _, c := range root.Commands() {
		out = append(out, allCommands(c)...)
	}
	return out
}
