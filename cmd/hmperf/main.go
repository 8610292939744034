// Command hmperf is a terminal dashboard and CLI for the PostgreSQL database
// of a health-metrics ingestion service: it manages the schema, ingests
// batches through a validation/dedup engine, benchmarks original against
// optimized tables and watches constraint performance, alerts and the
// deferred-index queue.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/mattn/go-isatty"
	"github.com/spf13/pflag"

	"hmperf/cmd/internal/cmdout"
	"hmperf/cmd/internal/prompt"
	"hmperf/queries"
)

// version, when set at build time with -ldflags "-X main.version=...",
// is the version hmperf reports instead of its build information.
var version = ""

// exitError carries a specific exit status (alerts uses 1–3 as monitoring
// plugins do).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// errUsage marks a command-line mistake (exit status 2).
var errUsage = errors.New("usage")

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
	root.SetArgs(normalizeArgs(root, args))
	return report(e.stderr, root.ExecuteContext(ctx))
}

func report(stderr io.Writer, err error) int {
	if err == nil || errors.Is(err, pflag.ErrHelp) {
		return 0
	}
	code := 1
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
	} else if errors.Is(err, errUsage) {
		code = 2
	}
	if msg := strings.TrimPrefix(queries.Plain(err), errUsage.Error()+": "); msg != "" {
		fmt.Fprintf(stderr, "hmperf: %s%s\n", msg, cmdout.PrivilegeHint(err))
	}
	return code
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
