// Command hmperf is a terminal dashboard and CLI for the PostgreSQL database
// of a health-metrics ingestion service: it manages the schema, ingests
// batches through a validation/dedup engine, benchmarks original against
// optimized tables and watches constraint performance, alerts and the
// deferred-index queue.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"

	"github.com/mattn/go-isatty"

	"hmperf/queries"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

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
	// describe, when set, receives the command's flag set (see flagsOf).
	describe **flag.FlagSet
}

// command is one of hmperf's commands; actions are its sub-commands
// (`migrate up`), passed to run as its first argument.
type command struct {
	name, summary string
	run           runFunc
	actions       []action
	// about, where set, is the long description its --help prints.
	about string
}

// action is a sub-command.
type action struct{ name, summary string }

func commands() []command {
	return []command{
		{"dashboard", "open the live dashboard (the default)", runDashboard, nil, ""},
		{"migrate", "show or change the schema version: status|adopt|up|down [N|--all]|goto V|force V", runMigrate, []action{
			{"status", "what the database is, its schema version and every migration (exit 1 when dirty)"},
			{"adopt", "record the service's own tables as hmperf's base, then apply hmperf's migrations"},
			{"up", "apply every pending migration"},
			{"down", "revert the last N migrations (default 1), or --all of them"},
			{"goto", "migrate up or down to version V"},
			{"force", "record version V without running anything (after a failed migration)"},
		}, ""},
		{"ingest", "validate, dedup and insert generated samples or a payload file", runIngest, nil, ""},
		{"bench", "benchmark original, optimized and unconstrained tables", runBench, nil, benchAbout},
		{"alerts", "print firing alerts; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN", runAlerts, nil, ""},
		{"monitor", "sample the service's own writes from the statistics views: --once, or every --interval", runMonitor, nil, ""},
		{"indexes", "show or process the deferred-index queue: status|process", runIndexes, []action{
			{"status", "the queue, with progress of builds in flight"},
			{"process", "build the queued deferred indexes with CREATE INDEX CONCURRENTLY"},
		}, ""},
		{"rollout", "move a live table to its optimized layout online: plan|start|status|verify|swap|revert|finish TABLE", runRollout, []action{
			{"plan", "the twin beside the live table, refused rows, backfill rate, locks and the verdict (writes nothing)"},
			{"start", "install change capture and backfill the twin (resumes a killed start)"},
			{"status", "the rollout's phase and progress"},
			{"verify", "compare the tables: counts and checksums per partition"},
			{"swap", "exchange the tables under a bounded lock; the original stays current for revert"},
			{"revert", "back to the original layout, no row lost"},
			{"finish", "drop the original table and the capture (typed confirmation)"},
		}, rolloutAbout},
		{"local", "run the embedded PostgreSQL with the schema applied until ^C; prints its connection string", runLocal, nil, ""},
		{"version", "print hmperf's version", runVersion, nil, ""},
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
	root.SetArgs(args)
	return report(e.stderr, root.ExecuteContext(ctx))
}

func report(stderr io.Writer, err error) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
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
		fmt.Fprintf(stderr, "hmperf: %s%s\n", msg, privilegeHint(err))
	}
	return code
}

// privilegeHint is what report adds to a refusal for a privilege that no
// command checked beforehand (those name the privilege and the GRANT
// themselves): where the roles and their grants are described.
func privilegeHint(err error) string {
	var named *queries.PrivilegeError
	if !queries.IsPrivilege(err) || errors.As(err, &named) {
		return ""
	}
	return "; the role lacks a privilege this command needs: reading needs what README's \"A monitoring role\" grants, writing the role that owns hmperf's schema"
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(e env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("hmperf "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	if e.describe != nil {
		*e.describe = fs
	}
	return fs
}

// parseFlags parses args, allowing flags after positional arguments
// (`migrate down 2 --yes`), and returns the positional ones. A negative number
// is a positional argument (`migrate force -1`). Every duration and count
// flag given is checked against its rule (checkFlags).
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	if len(args) == 1 && args[0] == describeFlags {
		return nil, errDescribe
	}
	var pos []string
	for {
		if len(args) > 0 && negativeNumber.MatchString(args[0]) {
			pos, args = append(pos, args[0]), args[1:]
			continue
		}
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		if args = fs.Args(); len(args) == 0 {
			return pos, checkFlags(fs)
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}

var negativeNumber = regexp.MustCompile(`^-\d+$`)

func runVersion(_ context.Context, e env, args []string) error {
	fmt.Fprintf(e.stdout, "hmperf %s\n", version)
	return nil
}

// stdinIsTerminal reports whether a person can answer on stdin. A
// character device is not enough: cron and `< /dev/null` give /dev/null,
// which is one.
func stdinIsTerminal() bool {
	return isatty.IsTerminal(os.Stdin.Fd())
}
