package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"hmperf/cmd/internal/benchout"
	"hmperf/queries"
	"hmperf/queries/bench"
	"hmperf/queries/writepolicy"
)

// benchOpts are the flags of `hmperf bench`.
type benchOpts struct {
	globals
	table      string
	rows       int
	reps       string
	maxTime    time.Duration
	ciWidth    float64
	method     string
	commit     bool
	seed       uint64
	report     string
	monitoring bool
	history    bool
	// set is bench's flag set, once parsed the global flags too: which
	// flags were given, for the defaults of --monitoring-overhead and the
	// command line that reproduces a run.
	set *pflag.FlagSet
}

// benchAbout is the long description in `hmperf bench --help`: what the
// verdicts mean, where rows go and the one definition of overhead.
const benchAbout = `Writes the same generated rows into each pair's original, optimized and
unconstrained tables, repetitions interleaved, and judges the report's claims.

` + bench.ScratchNote + `.
The overhead a run measures is a finding of that run (its verdicts, the
Benchmarks panel, the report), never an alert: ` + "`hmperf alerts`" + ` is about the
service's database.

A claim "holds" only when the whole 95% confidence interval of the measured
median is on its side, "does not hold" only when the whole interval is on the
other side, and is "inconclusive" otherwise (an interval needs at least 6
repetitions). Throughput claims in ops/s are judged only by --method function,
the report's own functions; other methods show them "not comparable".

Constraint overhead = (t - t_floor) / t_floor, t_floor the unconstrained
twin's time over the same rows in the same repetition: +100% means twice the
floor's time. A constrained table systematically faster than its floor is
reported as a wrong floor, never as a win.
`

func (o *benchOpts) flags(fs *pflag.FlagSet) {
	o.set = fs
	// Unsorted, help lists the flags as declared (the pair, the sizes,
	// how rows are written) and Visit goes in command-line order, which
	// reproduce keeps.
	fs.SortFlags = false
	fs.StringVar(&o.table, "table", "all", "pair to benchmark: nutrition, symptoms, activity or all")
	fs.IntVar(&o.rows, "rows", 5000, "N rows per write (with --monitoring-overhead: rows per batch, default 5000 as hmperf ingest)")
	fs.StringVar(&o.reps, "reps", "auto", "K interleaved repetitions, or auto: add repetitions until every claim's interval is decided or narrower than --ci-width, within --max-time (with --monitoring-overhead: batch pairs, default 40)")
	fs.DurationVar(&o.maxTime, "max-time", 2*time.Minute, "time budget of --reps auto")
	fs.Float64Var(&o.ciWidth, "ci-width", 5, "--reps auto stops once undecided intervals are narrower than this, in percentage points (throughput: percent of its median)")
	fs.StringVar(&o.method, "method", "copy", "how rows are written: copy (binary COPY), service (the service's chunked INSERT ... ON CONFLICT DO NOTHING, committed) or function (the report's benchmark_* SQL functions)")
	fs.BoolVar(&o.commit, "commit", false, "commit every write into scratch copies hmperf creates and drops, so WAL and commit costs are measured (always on for --method service)")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the generated rows")
	fs.StringVar(&o.report, "report", "", "also write DIR/report.md and one SVG chart per table into DIR")
	fs.BoolVar(&o.monitoring, "monitoring-overhead", false, "measure what the constraint-monitor feed costs an ingest batch instead")
	fs.BoolVar(&o.history, "history", false, "print the 20 most recent stored runs with how each ended (running, done, cancelled, failed or interrupted) instead of running one")
}

func runBench(ctx context.Context, e env, o *benchOpts, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("%w: bench takes no arguments (got %q)", errUsage, args[0])
	}
	if o.history {
		return benchHistory(ctx, e, *o)
	}
	tables, err := bench.ParseTables(o.table)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	reps, err := parseReps(o.reps)
	if err != nil {
		return err
	}
	if _, err := bench.ParseMethod(o.method); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if o.commit && o.method == string(bench.MethodFunction) {
		return fmt.Errorf("%w: --commit does not apply to --method function (the report's functions roll back their own inserts)", errUsage)
	}
	if o.conn.readOnly {
		return errors.New("bench writes benchmark runs and scratch copies of the tables (schema hmperf_scratch_N) and --read-only is set")
	}
	if o.monitoring {
		setMonitoringDefaults(o, &reps)
	} else if !o.yes && e.isTerminal() {
		if err := e.prompt().Ask("run a benchmark. " + bench.ScratchNote); err != nil {
			return err
		}
	}
	return benchOnTarget(ctx, e, *o, tables, reps)
}

// parseReps reads --reps: a count of at least 1, or auto (0).
func parseReps(s string) (int, error) {
	if s == "auto" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, badFlag("bench", "reps", "a positive count or auto", s)
	}
	return n, nil
}

// setMonitoringDefaults gives --rows and --reps the monitoring mode's
// defaults unless the user set them.
func setMonitoringDefaults(o *benchOpts, reps *int) {
	if !o.set.Changed("rows") {
		o.rows = bench.DefaultFeedBatch
	}
	if !o.set.Changed("reps") || *reps == 0 {
		*reps = 40
	}
}

func benchOnTarget(ctx context.Context, e env, o benchOpts, tables []string, reps int) error {
	t, err := openSchema(ctx, o.conn, e.stderr)
	if err != nil {
		return err
	}
	defer t.Close()
	pool, err := t.Pool(ctx, 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := writepolicy.CheckWritable(ctx, pool); err != nil {
		return err
	}
	if err := queries.Require(ctx, pool, "hmperf bench", bench.Needs); err != nil {
		return err
	}
	if o.monitoring {
		fo, err := bench.MeasureFeedOverhead(ctx, pool, bench.FeedOptions{Batches: reps, BatchSize: o.rows, Seed: o.seed})
		if err != nil {
			return err
		}
		return benchout.FeedOverhead(e.stdout, fo, o.json)
	}
	opts := bench.Options{Tables: tables, Rows: o.rows, Reps: reps, MaxTime: o.maxTime, CIWidth: o.ciWidth,
		Method: bench.Method(o.method), Commit: o.commit, Seed: o.seed, LockWait: t.LockPolicy(e.stderr), Log: e.stderr}
	if isTerminal(e.stderr) {
		opts.Progress = benchout.ProgressLine(e.stderr)
	}
	res, err := bench.Run(ctx, pool, opts)
	if opts.Progress != nil {
		fmt.Fprint(e.stderr, "\r\033[K")
	}
	if err != nil {
		if res != nil && res.Status == bench.StatusCancelled {
			return fmt.Errorf("benchmark cancelled; run %d is stored with status cancelled", res.ID)
		}
		return err
	}
	if warn := benchout.FsyncWarning(res); warn != "" {
		fmt.Fprintln(e.stderr, "hmperf: warning: "+warn)
	}
	if o.report != "" {
		if err := benchout.WriteReport(o.report, res, reproduce(o.set)); err != nil {
			return err
		}
	}
	if o.json {
		return benchout.JSON(e.stdout, res)
	}
	benchout.Text(e.stdout, res)
	return nil
}

// reproduce is the command line that repeats a run: the flags given, in
// the order given, without --dsn (a DSN may carry a password) and --report.
func reproduce(fs *pflag.FlagSet) string {
	out := []string{"hmperf", "bench"}
	fs.Visit(func(f *pflag.Flag) {
		switch {
		case f.Name == "dsn" || f.Name == "report":
		case f.Value.Type() == "bool" && f.Value.String() == "true":
			out = append(out, "--"+f.Name)
		case f.Value.Type() == "bool":
			out = append(out, "--"+f.Name+"=false")
		default:
			out = append(out, "--"+f.Name, shellQuote(f.Value.String()))
		}
	})
	return strings.Join(out, " ")
}

// shellQuote quotes s for a shell where it holds more than letters,
// digits and .,_-:/
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,_-:/") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// isTerminal reports whether w is a terminal (progress lines go only there).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
