// Command hmperf is a terminal dashboard and CLI for the PostgreSQL database
// of a health-metrics ingestion service: it manages the schema, ingests
// batches through a validation/dedup engine, benchmarks original against
// optimized tables and watches constraint performance, alerts and the
// deferred-index queue.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/mattn/go-isatty"

	"hmperf/cmd/internal/buildinfo"
	"hmperf/cmd/internal/cliargs"
	"hmperf/cmd/internal/exitcode"
	"hmperf/cmd/internal/prompt"
)

// version, when set at build time with -ldflags "-X main.version=...",
// is the version hmperf reports instead of its build information.
var version = ""

// exitError carries a specific exit status (see exitcode.Error).
type exitError = exitcode.Error

// errUsage marks a command-line mistake (exit status 2).
var errUsage = exitcode.ErrUsage

// env is what a command needs from the process, so tests can run commands
// in-process with their own streams.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	isTerminal     func() bool
	// parseOnly stops every command after its command line is parsed and
	// checked, before it runs (the README's command lines are tested so).
	parseOnly bool
}

// prompt asks the person at e's terminal.
func (e env) prompt() prompt.Prompt {
	return prompt.Prompt{In: e.stdin, Out: e.stderr, IsTerminal: e.isTerminal}
}

// command is one of hmperf's commands; actions are its sub-commands
// (`migrate up`), passed to its run as the first argument.
type command struct {
	name, summary string
	// bind declares the command's flags and runs it (see bind).
	bind    binder
	actions []action
	// about, where set, is the long description its --help prints.
	about string
	// without names the global flags the command does not take: given,
	// they are refused rather than ignored.
	without []string
}

// action is a sub-command.
type action struct{ name, summary string }

func commands() []command {
	return []command{
		{name: "dashboard", summary: "open the live dashboard (the default)", bind: bind(runDashboard),
			without: []string{"json", "yes"}},
		{name: "migrate", summary: "show or change the schema version: status|adopt|up|down [N|--all]|goto V|force V", bind: bind(runMigrate), actions: []action{
			{"status", "what the database is, its schema version and every migration (exit 1 when dirty)"},
			{"adopt", "record the service's own tables as hmperf's base, then apply hmperf's migrations"},
			{"up", "apply every pending migration"},
			{"down", "revert the last N migrations (default 1), or --all of them"},
			{"goto", "migrate up or down to version V"},
			{"force", "record version V without running anything (after a failed migration)"},
		}},
		{name: "ingest", summary: "validate, dedup and insert generated samples or a payload file", bind: bind(runIngest),
			without: []string{"yes"}},
		{name: "bench", summary: "benchmark original, optimized and unconstrained tables", bind: bind(runBench), about: benchAbout},
		{name: "alerts", summary: "print firing alerts; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN", bind: bind(runAlerts),
			without: []string{"yes"}},
		{name: "activity", summary: "every session as a lock tree, the oldest xmin holder and maintenance progress", bind: bind(runActivity),
			without: []string{"yes"}},
		{name: "report", summary: "what a dashboard recording saw in a window: rows per table, alerts, lag, lock waits, benchmarks",
			bind: bind(runReport), without: allBut("json")},
		{name: "replay", summary: "open the dashboard over a recording: space pause, ←/→ step, +/- speed, g jump to a time",
			bind: bind(runReplay), without: allGlobals()},
		{name: "monitor", summary: "sample the service's own writes from the statistics views: --once, or every --interval", bind: bind(runMonitor),
			without: []string{"yes"}},
		{name: "indexes", summary: "show or process the deferred-index queue: status|process", bind: bind(runIndexes), actions: []action{
			{"status", "the queue, with progress of builds in flight"},
			{"process", "build the queued deferred indexes with CREATE INDEX CONCURRENTLY"},
		}, without: []string{"yes"}},
		{name: "rollout", summary: "move a live table to its optimized layout online: plan|start|status|verify|swap|revert|finish TABLE",
			bind: bind(runRollout), about: rolloutAbout, actions: []action{
				{"plan", "the twin beside the live table, refused rows, backfill rate, locks and the verdict (writes nothing)"},
				{"start", "install change capture and backfill the twin (resumes a killed start)"},
				{"status", "the rollout's phase and progress"},
				{"verify", "compare the tables: counts and checksums per partition"},
				{"swap", "exchange the tables under a bounded lock; the original stays current for revert"},
				{"revert", "back to the original layout, no row lost"},
				{"finish", "drop the original table and the capture (typed confirmation)"},
			}},
		{name: "local", summary: "run the embedded PostgreSQL with the schema applied until ^C; prints its connection string", bind: bind(runLocal),
			without: allGlobals()},
		{name: "version", summary: "print hmperf's version", bind: bind(runVersion), without: allGlobals()},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	e := env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, isTerminal: stdinIsTerminal}
	code := run(ctx, e, os.Args[1:])
	stop()
	os.Exit(code)
}

// run executes one command line and returns the exit status.
func run(ctx context.Context, e env, args []string) int {
	root := newRootCommand(e)
	root.SetArgs(cliargs.Normalize(root, args))
	return exitcode.Report(e.stderr, root.ExecuteContext(ctx))
}

func runVersion(_ context.Context, e env, _ *noFlags, _ []string) error {
	_, err := fmt.Fprintf(e.stdout, "hmperf %s\n", buildVersion())
	return err
}

// stdinIsTerminal reports whether a person can answer on stdin. A
// character device is not enough: cron and `< /dev/null` give /dev/null,
// which is one.
func stdinIsTerminal() bool {
	return isatty.IsTerminal(os.Stdin.Fd())
}

// buildVersion is hmperf's version (see buildinfo.Version).
func buildVersion() string { return buildinfo.Version(version) }
