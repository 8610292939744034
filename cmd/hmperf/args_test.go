package main

import (
	"io"
	"strings"
	"testing"

	"hmperf/cmd/internal/cliargs"
)

// TestNormalizeArgs: single-dash long flags become pflag's double-dash ones
// where the command takes them, and negative positional numbers move after
// a "--" with what follows them; everything else passes unchanged.
func TestNormalizeArgs(t *testing.T) {
	t.Parallel()
	root := newRootCommand(env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard})
	for _, c := range []struct{ in, want string }{
		{"-dsn X migrate status", "--dsn X migrate status"},
		{"-dsn=X -read-only alerts -json", "--dsn=X --read-only alerts --json"},
		{"migrate down -all -yes", "migrate down --all --yes"},
		{"migrate -yes up", "migrate --yes up"},
		{"bench -table nutrition -rows 200 -max-time=-1s", "bench --table nutrition --rows 200 --max-time=-1s"},
		{"-interval 1s -sample-ingest", "--interval 1s --sample-ingest"},
		{"migrate force -1", "migrate force -- -1"},
		{"migrate down -2 --yes", "migrate down --yes -- -2"},
		{"migrate goto -1 x --yes", "migrate goto --yes -- -1 x"},
		{"migrate goto -1 -- --x", "migrate goto -- -1 --x"},
		{"--bench-reps -1", "--bench-reps -1"},
		{"indexes process -limit -1", "indexes process --limit -1"},
		{"ingest --file - -json", "ingest --file - --json"},
		{"-h", "-h"},
		{"-help", "--help"},
		{"-version", "--version"},
		{"migrate -version", "migrate -version"},
		{"alerts -rows 5", "alerts -rows 5"},
		{"local -replicas 2", "local --replicas 2"},
		{"__complete -dsn", "__complete -dsn"},
		{"", ""},
	} {
		got := strings.Join(cliargs.Normalize(root, strings.Fields(c.in)), " ")
		if got != c.want {
			t.Errorf("Normalize(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestOldCommandLinesParse: command lines written for Go's flag package,
// single-dash long flags and negative positional numbers, parse as they
// did, through the whole parser.
func TestOldCommandLinesParse(t *testing.T) {
	t.Parallel()
	for _, line := range []string{
		"-dsn postgres://h/db -read-only migrate status -json",
		"migrate force -1 -yes",
		"migrate -dsn=host=x down -all -yes",
		"-interval 1s -bench-reps 0",
		"bench -table symptoms -reps auto -method service -commit",
		"ingest -sample 10 -types heart_rate,sleep -dup-rate 0.1",
		"monitor -once -interval 1s",
		"indexes process -limit 0 -backoff 1s",
	} {
		if r := parseOnly(strings.Fields(line)); r.code != 0 {
			t.Errorf("%q: exit %d, stderr %q", line, r.code, r.stderr)
		}
	}
}

// TestNoCommandParsesItsOwnFlags: cobra parses every command's flags; none
// is left to parse them itself.
func TestNoCommandParsesItsOwnFlags(t *testing.T) {
	t.Parallel()
	root := newRootCommand(env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard})
	cmds := allCommands(root)
	if len(cmds) < len(commands()) {
		t.Fatalf("tree has %d commands, commands() %d", len(cmds), len(commands()))
	}
	for _, c := range cmds {
		if c.DisableFlagParsing {
			t.Errorf("%s parses its own flags", c.CommandPath())
		}
	}
}

// TestSynopsesParse: each form the README's Commands synopsis gives, with
// every optional part written out and a value for each placeholder, parses.
func TestSynopsesParse(t *testing.T) {
	t.Parallel()
	for _, line := range []string{
		"dashboard --interval 2s --sample-ingest --bench-rows 100 --bench-reps 3 --export-dir out",
		"--interval 2s --sample-ingest --bench-rows 100 --bench-reps 3 --export-dir out",
		"migrate status --json", "migrate adopt --yes", "migrate up --yes", "migrate down 2 --yes",
		"migrate down --all --yes", "migrate goto 5 --yes", "migrate force 5 --yes",
		"ingest --sample 10 --seed 3 --dup-rate 0.1 --invalid-rate 0.05 --types heart_rate,sleep --target sandbox " +
			"--batch-size 100 --context api --skip-validation api,testing --create-users --row-fk-checks --json",
		"ingest --file payload.json --target live",
		"bench --table nutrition --rows 100 --reps auto --max-time 1m --ci-width 5 --method service --commit " +
			"--seed 2 --report out --json --yes",
		"bench --monitoring-overhead --rows 100 --reps 40", "bench --history --json",
		"alerts --json", "alerts --servers servers.toml", "--servers servers.toml",
		"monitor --once --interval 1s --json", "indexes status --json", "indexes process --limit 1 --backoff 1s --json",
		"local", "local --replicas 2", "completion bash", "completion zsh", "completion fish", "version", "--version", "-h",
		"--dsn URL migrate status", "migrate --dsn URL status", "migrate status --dsn URL",
	} {
		if r := parseOnly(strings.Fields(line)); r.code != 0 {
			t.Errorf("%q: exit %d, stderr %q", line, r.code, r.stderr)
		}
	}
}
