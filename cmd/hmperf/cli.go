package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// runFunc is one command's implementation: it parses its own flags (Go's
// flag package, which also takes -name and negative numbers as arguments,
// as `migrate force -1` needs) and does the work.
type runFunc func(ctx context.Context, e env, args []string) error

// describeFlags, as a command's only argument, makes parseFlags stop before
// parsing: the command has declared its flags and returns errDescribe, so
// the command tree can show and complete them without a second list of
// flags to keep in step.
const describeFlags = "\x00describe-flags"

var errDescribe = errors.New("flags described")

// flagsOf returns the flags run declares, without running it.
func flagsOf(run runFunc) *flag.FlagSet {
	var fs *flag.FlagSet
	e := env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard,
		isTerminal: func() bool { return false }, describe: &fs}
	_ = run(context.Background(), e, []string{describeFlags})
	return fs
}

// newRootCommand builds hmperf's command tree. cobra finds the command,
// prints help, suggests the nearest name for a mistyped one and writes the
// shell completion scripts; each command still parses its own flags, so the
// global flags (--dsn, --connect-timeout, --read-only, --json, --yes) may
// stand before or after the command's name.
func newRootCommand(e env) *cobra.Command {
	root := &cobra.Command{
		Use:   "hmperf",
		Short: "dashboard and CLI for the health-metrics ingest service's PostgreSQL database",
		Long: "hmperf opens a live dashboard (the default) and, as commands, manages the schema, ingests\n" +
			"batches through a validation/dedup engine, benchmarks original against optimized tables,\n" +
			"prints alerts and processes the deferred-index queue.\n\n" +
			"With no --dsn, DATABASE_URL or PG* variables it starts a throwaway embedded PostgreSQL.",
		Version:            version,
		SilenceErrors:      true,
		SilenceUsage:       true,
		DisableFlagParsing: true,
		Args:               cobra.ArbitraryArgs,
	}
	root.SetVersionTemplate("hmperf {{.Version}}\n")
	root.SetIn(e.stdin)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	registerGlobalFlags(root.PersistentFlags())
	addGoFlags(root.Flags(), flagsOf(runDashboard), root.PersistentFlags())
	root.RunE = func(c *cobra.Command, args []string) error { return runRoot(c, e, args) }

	for _, cmd := range commands() {
		root.AddCommand(commandFor(e, cmd))
	}
	return root
}

// registerGlobalFlags declares the flags every command takes. cobra needs
// them to tell `--dsn X migrate` (X is a value) from a command name; the
// commands parse them.
func registerGlobalFlags(fs *pflag.FlagSet) {
	fs.StringArray("dsn", nil, dsnUsage)
	fs.String("servers", "", serversUsage)
	fs.Duration("connect-timeout", 10*time.Second, "how long to wait for the server to accept a connection")
	fs.Bool("read-only", false, "never write: every session is read-only and write commands are refused")
	fs.Bool("json", false, "print one JSON document (commands that report)")
	fs.Bool("yes", false, "answer yes to confirmations (commands that change things)")
}

// addGoFlags shows a command's own flags in its help and completion,
// leaving out the global ones already declared.
func addGoFlags(dst *pflag.FlagSet, src *flag.FlagSet, global *pflag.FlagSet) {
	if src == nil {
		return
	}
	src.VisitAll(func(f *flag.Flag) {
		if global.Lookup(f.Name) == nil && dst.Lookup(f.Name) == nil {
			dst.AddGoFlag(f)
		}
	})
}

// commandFor turns one entry of commands() into a cobra command, with its
// actions (migrate up, indexes process, ...) as subcommands.
func commandFor(e env, cmd command) *cobra.Command {
	c := leaf(e, cmd.name, cmd.summary, cmd.run)
	c.Long = cmd.about
	for _, a := range cmd.actions {
		c.AddCommand(leaf(e, a.name, a.summary, prefixed(cmd.run, a.name)))
	}
	return c
}

// prefixed runs run with action as its first argument.
func prefixed(run runFunc, action string) runFunc {
	return func(ctx context.Context, e env, args []string) error {
		if len(args) == 1 && args[0] == describeFlags {
			return run(ctx, e, args)
		}
		return run(ctx, e, append([]string{action}, args...))
	}
}

// leaf is a command whose arguments go to run unparsed.
func leaf(e env, name, summary string, run runFunc) *cobra.Command {
	c := &cobra.Command{
		Use:                name,
		Short:              summary,
		DisableFlagParsing: true,
		Args:               cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if wantsHelp(args) {
				return c.Help()
			}
			return run(c.Context(), e, args)
		},
	}
	fs := flagsOf(run)
	addGoFlags(c.Flags(), fs, globalFlagNames())
	c.ValidArgsFunction = completeFlags(c)
	return c
}

func globalFlagNames() *pflag.FlagSet {
	fs := pflag.NewFlagSet("global", pflag.ContinueOnError)
	registerGlobalFlags(fs)
	return fs
}

// completeFlags completes flag names: cobra does not, for a command whose
// flags it does not parse.
func completeFlags(c *cobra.Command) cobra.CompletionFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if !strings.HasPrefix(toComplete, "-") {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []cobra.Completion
		add := func(f *pflag.Flag) {
			if name := "--" + f.Name; strings.HasPrefix(name, toComplete) {
				out = append(out, cobra.CompletionWithDesc(name, f.Usage))
			}
		}
		c.LocalFlags().VisitAll(add)
		c.InheritedFlags().VisitAll(add)
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

func wantsHelp(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a == "-h" || a == "--help" || a == "-help" {
			return true
		}
	}
	return false
}

// runRoot is `hmperf` with no command: the dashboard. A word that is not a
// flag, a flag's value or a command is a mistyped command.
func runRoot(c *cobra.Command, e env, args []string) error {
	switch {
	case wantsHelp(args):
		return c.Help()
	case slices.Contains(args, "--version") || slices.Contains(args, "-version") || slices.Contains(args, "-v"):
		_, err := fmt.Fprintf(e.stdout, "hmperf %s\n", version)
		return err
	}
	if word := strayWord(args); word != "" {
		msg := fmt.Sprintf("unknown command %q (see `hmperf --help`)", word)
		if s := c.SuggestionsFor(word); len(s) > 0 {
			msg = fmt.Sprintf("unknown command %q: did you mean %q? (see `hmperf --help`)", word, s[0])
		}
		return fmt.Errorf("%w: %s", errUsage, msg)
	}
	return runDashboard(c.Context(), e, args)
}

// strayWord returns the first positional argument of the dashboard's
// command line, which it does not take; "" when there is none or the flags
// do not parse (the dashboard reports that itself).
func strayWord(args []string) string {
	fs := flagsOf(runDashboard)
	fs.Init("hmperf", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	pos, err := parseFlags(fs, args)
	if err != nil || len(pos) == 0 {
		return ""
	}
	return pos[0]
}
