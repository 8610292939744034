package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// A command's flags, the one pattern every command follows:
//
//	// fooOpts are the flags of `hmperf foo`.
//	type fooOpts struct {
//		globals // --dsn, --read-only, --json, --yes, ...: o.conn, o.json, o.yes
//		rows    int
//	}
//
//	func (o *fooOpts) flags(fs *pflag.FlagSet) {
//		fs.IntVar(&o.rows, "rows", 100, "rows per batch")
//	}
//
//	func runFoo(ctx context.Context, e env, o *fooOpts, args []string) error { ... }
//
// and in commands(): {name: "foo", summary: "...", bind: bind(runFoo)}.
// cobra parses the command line into o before runFoo runs; args are the
// positional arguments (after the action, for a command with actions, whose
// flags its actions share). A command with no flags of its own takes
// *noFlags; the global flags it has no use for go in the entry's without,
// so they are refused rather than ignored. A duration, count or rate flag
// needs its rule in flagRules (TestEveryNumericFlagHasARule), and a flag
// with a known set of values its completion in flagCompletions.

// runFunc runs one command with its flags parsed; args are the positional
// arguments.
type runFunc func(ctx context.Context, e env, args []string) error

// globals are the flags every command takes, declared once as persistent
// flags of the root; each command's options embed them.
type globals struct {
	conn connFlags
	json bool
	yes  bool
}

func (g *globals) setGlobals(v globals) { *g = v }

// register declares the global flags on fs, bound to g.
func (g *globals) register(fs *pflag.FlagSet) {
	g.conn.register(fs)
	fs.BoolVar(&g.json, "json", false, "print one JSON document (commands that report)")
	fs.BoolVar(&g.yes, "yes", false, "answer yes to confirmations (commands that change things)")
}

// options is what bind needs of a command's options type: a struct that
// embeds globals and declares its own flags.
type options interface {
	flags(fs *pflag.FlagSet)
	setGlobals(v globals)
}

// binder declares a command's own flags on fs and returns what runs the
// command once cobra has parsed the command line into them and into g.
type binder func(fs *pflag.FlagSet, g *globals) runFunc

// bind makes run a command: a fresh options value per command tree, its
// flags declared, the global ones copied in before run.
func bind[O any, P interface {
	*O
	options
}](run func(ctx context.Context, e env, o P, args []string) error) binder {
	return func(fs *pflag.FlagSet, g *globals) runFunc {
		o := P(new(O))
		o.flags(fs)
		return func(ctx context.Context, e env, args []string) error {
			o.setGlobals(*g)
			return run(ctx, e, o, args)
		}
	}
}

// noFlags are the options of a command without flags of its own.
type noFlags struct{ globals }

func (*noFlags) flags(*pflag.FlagSet) {}

// newRootCommand builds hmperf's command tree: cobra finds the command,
// parses every flag (the global ones before or after the command's name),
// prints help, suggests the nearest name for a mistyped command and writes
// the shell completion scripts.
func newRootCommand(e env) *cobra.Command {
	g := new(globals)
	root := &cobra.Command{
		Use:   "hmperf",
		Short: "dashboard and CLI for the health-metrics ingest service's PostgreSQL database",
		Long: "hmperf opens a live dashboard (the default) and, as commands, manages the schema, ingests\n" +
			"batches through a validation/dedup engine, benchmarks original against optimized tables,\n" +
			"prints alerts and processes the deferred-index queue.\n\n" +
			"With no --dsn, DATABASE_URL or PG* variables it starts a throwaway embedded PostgreSQL.",
		Version:       buildVersion(),
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          strayCommand,
	}
	root.SetVersionTemplate("hmperf {{.Version}}\n")
	root.SetIn(e.stdin)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.SetFlagErrorFunc(flagError)
	g.register(root.PersistentFlags())
	for _, cmd := range commands() {
		c := commandFor(e, g, cmd)
		root.AddCommand(c)
		if cmd.name == "dashboard" {
			// `hmperf` alone is the dashboard, with the same flags.
			root.RunE = runE(e, g, cmd, cmd.bind(root.Flags(), g))
		}
	}
	registerCompletions(root)
	return root
}

// commandFor turns one entry of commands() into a cobra command, with its
// actions (migrate up, indexes process, ...) as subcommands that share its
// flags.
func commandFor(e env, g *globals, cmd command) *cobra.Command {
	c := &cobra.Command{Use: cmd.name, Short: cmd.summary, Long: cmd.about, Args: cobra.ArbitraryArgs}
	fs := c.Flags()
	if len(cmd.actions) > 0 {
		fs = c.PersistentFlags()
	}
	run := cmd.bind(fs, g)
	c.RunE = runE(e, g, cmd, run)
	for _, a := range cmd.actions {
		c.AddCommand(&cobra.Command{Use: a.name, Short: a.summary, Args: cobra.ArbitraryArgs,
			RunE: runE(e, g, cmd, prefixed(run, a.name))})
	}
	return c
}

// prefixed runs run with action as its first argument.
func prefixed(run runFunc, action string) runFunc {
	return func(ctx context.Context, e env, args []string) error {
		return run(ctx, e, append([]string{action}, args...))
	}
}

// runE checks the parsed flags against their rules and the global flags
// the command does not take, labels the command's connections and runs it;
// with e.parseOnly it stops after the checks.
func runE(e env, g *globals, cmd command, run runFunc) func(*cobra.Command, []string) error {
	return func(c *cobra.Command, args []string) error {
		if err := checkFlags(c.Flags(), cmd.name); err != nil {
			return err
		}
		if err := refuseUnused(c, cmd); err != nil {
			return err
		}
		if e.parseOnly {
			return nil
		}
		g.conn.command = "hmperf " + cmd.name
		return run(c.Context(), e, args)
	}
}

// refuseUnused refuses a global flag given to a command that would ignore
// it (`local --dsn`: local starts its own server).
func refuseUnused(c *cobra.Command, cmd command) error {
	for _, name := range cmd.without {
		if c.Flags().Changed(name) {
			return fmt.Errorf("%w: %s: --%s does not apply to this command", errUsage, cmd.name, name)
		}
	}
	return nil
}

// allGlobals names every global flag, for a command that takes none.
func allGlobals() []string {
	fs := pflag.NewFlagSet("globals", pflag.ContinueOnError)
	new(globals).register(fs)
	var names []string
	fs.VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
	return names
}

// flagError makes a flag cobra could not parse a usage error (exit 2),
// naming the command.
func flagError(c *cobra.Command, err error) error {
	return fmt.Errorf("%w: %s: %v", errUsage, topName(c), err)
}

// topName is the command c belongs to: "migrate" for `migrate down`,
// "dashboard" for the root.
func topName(c *cobra.Command) string {
	for c.HasParent() && c.Parent().HasParent() {
		c = c.Parent()
	}
	if !c.HasParent() {
		return "dashboard"
	}
	return c.Name()
}

// strayCommand refuses a word after `hmperf` that is not a command or a
// flag's value: a mistyped command, with the nearest name when there is one.
func strayCommand(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	word := args[0]
	msg := fmt.Sprintf("unknown command %q (see `hmperf --help`)", word)
	if s := c.SuggestionsFor(word); len(s) > 0 {
		msg = fmt.Sprintf("unknown command %q: did you mean %q? (see `hmperf --help`)", word, s[0])
	}
	return fmt.Errorf("%w: %s", errUsage, msg)
}
