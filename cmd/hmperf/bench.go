package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"hmperf/queries"
	"hmperf/queries/bench"
)

// benchOpts are the flags of `hmperf bench`.
type benchOpts struct {
	conn       connFlags
	table      string
	rows       int
	reps       string
	maxTime    time.Duration
	ciWidth    float64
	method     string
	commit     bool
	seed       uint64
	json       bool
	report     string
	monitoring bool
	yes        bool
	history    bool
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

func runBench(ctx context.Context, e env, args []string) error {
	var o benchOpts
	fs := newFlagSet(e, "bench")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: hmperf bench [flags]\n\n"+benchAbout+"\nFlags:\n")
		fs.PrintDefaults()
	}
	o.conn.register(fs)
	fs.StringVar(&o.table, "table", "all", "pair to benchmark: nutrition, symptoms, activity or all")
	fs.IntVar(&o.rows, "rows", 5000, "N rows per write (with --monitoring-overhead: rows per batch, default 5000 as hmperf ingest)")
	fs.StringVar(&o.reps, "reps", "auto", "K interleaved repetitions, or auto: add repetitions until every claim's interval is decided or narrower than --ci-width, within --max-time (with --monitoring-overhead: batch pairs, default 40)")
	fs.DurationVar(&o.maxTime, "max-time", 2*time.Minute, "time budget of --reps auto")
	fs.Float64Var(&o.ciWidth, "ci-width", 5, "--reps auto stops once undecided intervals are narrower than this, in percentage points (throughput: percent of its median)")
	fs.StringVar(&o.method, "method", "copy", "how rows are written: copy (binary COPY), service (the service's chunked INSERT ... ON CONFLICT DO NOTHING, committed) or function (the report's benchmark_* SQL functions)")
	fs.BoolVar(&o.commit, "commit", false, "commit every write into scratch copies hmperf creates and drops, so WAL and commit costs are measured (always on for --method service)")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the generated rows")
	fs.BoolVar(&o.json, "json", false, "print one JSON document")
	fs.StringVar(&o.report, "report", "", "also write DIR/report.md and one SVG chart per table into DIR")
	fs.BoolVar(&o.monitoring, "monitoring-overhead", false, "measure what the constraint-monitor feed costs an ingest batch instead")
	fs.BoolVar(&o.history, "history", false, "print the 20 most recent stored runs with how each ended (running, done, cancelled, failed or interrupted) instead of running one")
	fs.BoolVar(&o.yes, "yes", false, "do not ask on a terminal before running (scripts are never asked: a benchmark writes only hmperf's own tables)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("%w: bench takes no arguments (got %q)", errUsage, rest[0])
	}
	if o.history {
		return benchHistory(ctx, e, o)
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
		setMonitoringDefaults(fs, &o, &reps)
	} else if !o.yes && e.isTerminal() {
		if err := ask(e, "run a benchmark. "+bench.ScratchNote); err != nil {
			return err
		}
	}
	return benchOnTarget(ctx, e, o, tables, reps, args)
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
func setMonitoringDefaults(fs *flag.FlagSet, o *benchOpts, reps *int) {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["rows"] {
		o.rows = bench.DefaultFeedBatch
	}
	if !set["reps"] || *reps == 0 {
		*reps = 40
	}
}

func benchOnTarget(ctx context.Context, e env, o benchOpts, tables []string, reps int, args []string) error {
	t, err := openSchema(ctx, o.conn, e.stderr)
	if err != nil {
		return err
	}
	defer t.Close()
	pool, err := t.pool(ctx, 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := checkWritable(ctx, pool); err != nil {
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
		return printFeedOverhead(e.stdout, fo, o.json)
	}
	opts := bench.Options{Tables: tables, Rows: o.rows, Reps: reps, MaxTime: o.maxTime, CIWidth: o.ciWidth,
		Method: bench.Method(o.method), Commit: o.commit, Seed: o.seed, LockWait: t.lockPolicy(e.stderr), Log: e.stderr}
	if isTerminal(e.stderr) {
		opts.Progress = progressLine(e.stderr)
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
	if warn := fsyncWarning(res); warn != "" {
		fmt.Fprintln(e.stderr, "hmperf: warning: "+warn)
	}
	if o.report != "" {
		if err := writeBenchReport(o.report, res, reproduce(args)); err != nil {
			return err
		}
	}
	if o.json {
		return printBenchJSON(e.stdout, res)
	}
	printBenchText(e.stdout, res)
	return nil
}

// reproduce is the command line that repeats a run, without the
// connection flags (whose DSN may carry a password) and without --report.
func reproduce(args []string) string {
	out := []string{"hmperf", "bench"}
	skipNext := false
	for _, a := range args {
		if skipNext {
			skipNext = false
			continue
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && (name == "dsn" || name == "report") {
			skipNext = !hasValue
			continue
		}
		out = append(out, a)
	}
	return strings.Join(out, " ")
}

// fsyncWarning says what fsync=off does to the figures, or "".
func fsyncWarning(r *bench.Result) string {
	if r.Server.Settings["fsync"] != "off" {
		return ""
	}
	return "fsync is off on this server: nothing is flushed to disk, so committed throughput is higher than a production server's"
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

// progressLine rewrites one status line on w as the run advances: the
// repetition, the write in flight or just done, and the pair's current
// interval of optimized/original.
func progressLine(w io.Writer) func(bench.Progress) {
	return func(p bench.Progress) {
		reps := strconv.Itoa(p.Reps)
		if p.Reps == 0 {
			reps = "auto"
		}
		state := "running"
		if p.Done {
			state = fmt.Sprintf("%s rows/s, ratio %s", thousands(p.RowsPerSec), intervalText(p.Ratio))
		}
		fmt.Fprintf(w, "\r\033[K%s %s rep %d/%s: %s", p.Table, p.Variant, p.Rep, reps, state)
	}
}

// intervalText is an interval of a ratio, as the progress line shows it.
func intervalText(iv bench.Interval) string {
	if iv.Reps == 0 {
		return "-"
	}
	if !iv.Bounded {
		return fmt.Sprintf("%.2f (no 95%% interval before %d reps)", iv.Median, bench.MinReps)
	}
	return fmt.Sprintf("%.2f [%.2f, %.2f]", iv.Median, iv.Low, iv.High)
}

// benchJSON is the --json document.
type benchJSON struct {
	Results        []bench.VariantResult `json:"results"`
	Comparisons    []bench.Comparison    `json:"comparisons"`
	RunID          int64                 `json:"run_id"`
	ServerVersion  string                `json:"server_version"`
	Settings       map[string]string     `json:"settings"`
	TableBytes     map[string]int64      `json:"table_bytes_before"`
	Rows           int                   `json:"rows"`
	Reps           int                   `json:"reps"`
	AutoReps       bool                  `json:"auto_reps"`
	Seed           uint64                `json:"seed"`
	WriteMethod    bench.Method          `json:"write_method"`
	Commit         bool                  `json:"commit"`
	ScratchCopies  bool                  `json:"scratch_copies"`
	Method         string                `json:"method"`
	IntervalMethod string                `json:"interval_method"`
	Overhead       string                `json:"overhead_definition"`
	Warnings       []string              `json:"warnings"`
}

// overheadDefinition is the one definition of overhead, as printed.
const overheadDefinition = "(t - t_floor) / t_floor, t_floor the unconstrained twin's time over the same rows in the same repetition"

func printBenchJSON(w io.Writer, r *bench.Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	warnings := []string{}
	if warn := fsyncWarning(r); warn != "" {
		warnings = append(warnings, warn)
	}
	for _, c := range r.Comparisons {
		warnings = append(warnings, c.FloorWarnings...)
	}
	return enc.Encode(benchJSON{Results: r.Results, Comparisons: r.Comparisons, RunID: r.ID, ServerVersion: r.Server.Version,
		Settings: r.Server.Settings, TableBytes: r.SizesBefore, Rows: r.Rows, Reps: r.Reps, AutoReps: r.Auto, Seed: r.Seed,
		WriteMethod: r.Setup.Method, Commit: r.Setup.Commit, ScratchCopies: r.Setup.Scratch, Method: r.Setup.Describe() + "; repetitions interleaved original/optimized/unconstrained",
		IntervalMethod: bench.IntervalMethod, Overhead: overheadDefinition, Warnings: warnings})
}

func printBenchText(w io.Writer, r *bench.Result) {
	reps := fmt.Sprintf("%d interleaved repetitions", r.Reps)
	if r.Auto {
		reps += " (--reps auto)"
	}
	fmt.Fprintf(w, "benchmark run %d: %s rows x %s per variant, seed %d\n", r.ID, thousands(float64(r.Rows)), reps, r.Seed)
	fmt.Fprintf(w, "method: %s\n", r.Setup.Describe())
	fmt.Fprintf(w, "server: %s\n", r.Server.Version)
	fmt.Fprintf(w, "settings: %s\n", settingsLine(r.Server.Settings))
	fmt.Fprintf(w, "table sizes before: %s\n", sizesLine(r.SizesBefore))
	fmt.Fprintf(w, "intervals: %s\n", bench.IntervalMethod)
	fmt.Fprintf(w, "overhead: %s\n", overheadDefinition)
	if warn := fsyncWarning(r); warn != "" {
		fmt.Fprintln(w, "WARNING: "+warn)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "table\tvariant\tmedian rows/s\t95% interval\tmin rows/s\tmax rows/s\toverhead vs floor\t95% interval\t")
	for _, v := range r.Results {
		over, overIv := pct(v.OverheadPct), ciText(v.OverheadLow, v.OverheadHigh, signedPct)
		if v.Variant == bench.Unconstrained {
			over, overIv = "floor", ""
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", v.Table, v.Variant, thousands(v.MedianRPS), ciText(v.RPSLow, v.RPSHigh, thousands),
			thousands(v.MinRPS), thousands(v.MaxRPS), over, overIv)
	}
	tw.Flush()
	fmt.Fprintln(w)
	fmt.Fprintln(w, "the report's claims (\"expected\", never measured) against this run:")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "table\tclaim\tclaimed\tmeasured (median)\t95% interval\treps\tverdict")
	var notes []string
	for _, c := range r.Comparisons {
		for _, v := range c.Verdicts {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", c.Pair, claimWording[v.Claim], claimed(v), measured(c, v), verdictCI(v), v.Reps, v.Verdict)
			if v.Why != "" {
				notes = append(notes, fmt.Sprintf("%s, %s: %s: %s", c.Pair, claimWording[v.Claim], v.Verdict, v.Why))
			}
		}
		for _, f := range c.FloorWarnings {
			notes = append(notes, "WARNING: "+f)
		}
	}
	tw.Flush()
	for _, n := range notes {
		fmt.Fprintln(w, "  "+n)
	}
}

// settingsLine prints the server settings that change the figures.
func settingsLine(s map[string]string) string {
	var parts []string
	for _, k := range []string{"fsync", "synchronous_commit", "wal_level", "full_page_writes", "shared_buffers", "jit", "max_wal_size", "work_mem"} {
		if v, ok := s[k]; ok {
			parts = append(parts, k+"="+v)
		}
	}
	return strings.Join(parts, " ")
}

// sizesLine prints the live tables' sizes when the run started, and says
// that the copies measured were empty.
func sizesLine(sizes map[string]int64) string {
	names := slices.Sorted(maps.Keys(sizes))
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s %s kB", n, thousands(float64(sizes[n])/1024))
	}
	return strings.Join(parts, ", ") + " (the live tables; the scratch copies measured start empty)"
}

// ciText prints an interval, or "none" when too few repetitions bound it.
func ciText(lo, hi *float64, f func(float64) string) string {
	if lo == nil || hi == nil {
		return "none (< " + strconv.Itoa(bench.MinReps) + " reps)"
	}
	return f(*lo) + " to " + f(*hi)
}

func verdictCI(v bench.Verdict) string {
	if v.Verdict == bench.NotComparable {
		return "n/a (other method)"
	}
	if v.Unit == bench.RowsPerSecUnit {
		return ciText(v.CILow, v.CIHigh, thousands)
	}
	return ciText(v.CILow, v.CIHigh, signedPct)
}

var claimWording = map[string]string{
	"improvement_pct": "improvement over original",
	"ops_per_sec":     "optimized throughput",
	"overhead_pct":    "optimized constraint overhead",
}

// claimShort names each claim in one word, for the dashboard's narrow
// layouts; the table column says the claim is the optimized table's.
var claimShort = map[string]string{
	"improvement_pct": "improvement",
	"ops_per_sec":     "throughput",
	"overhead_pct":    "overhead",
}

func claimed(v bench.Verdict) string {
	switch v.Claim {
	case "ops_per_sec":
		return thousands(v.Claimed) + " ops/s"
	case "overhead_pct":
		return "<= " + strconv.FormatFloat(v.Claimed, 'f', -1, 64) + "%"
	}
	return ">= " + strconv.FormatFloat(v.Claimed, 'f', -1, 64) + "%"
}

func measured(c bench.Comparison, v bench.Verdict) string {
	switch v.Claim {
	case "ops_per_sec":
		return thousands(v.Measured) + " rows/s"
	case "overhead_pct":
		return signedPct(v.Measured)
	}
	return fmt.Sprintf("%s (ratio %.2f, spread %.2f-%.2f)", signedPct(v.Measured), c.RatioMedian, c.RatioMin, c.RatioMax)
}

// holdsText is the feed-overhead target's outcome (a fixed budget, not one
// of the report's claims).
func holdsText(ok bool) string {
	if ok {
		return string(bench.Holds)
	}
	return string(bench.DoesNotHold)
}

func pct(v float64) string       { return strconv.FormatFloat(v, 'f', 1, 64) + "%" }
func signedPct(v float64) string { return fmt.Sprintf("%+.1f%%", v) }

// thousands formats v rounded to an integer with comma separators.
func thousands(v float64) string {
	s := strconv.FormatFloat(v, 'f', 0, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		return "-" + s
	}
	return s
}

func printFeedOverhead(w io.Writer, fo bench.FeedOverhead, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(fo)
	}
	// The monitoring proper (the triggers feeding the monitor, measured
	// directly) decides where the role can measure it; otherwise both
	// coarser readings, which also count the stats row, must be within it.
	verdict := holdsText(fo.OverheadPct <= 2 && fo.FeedPct <= 2)
	if fo.TriggersPct != nil {
		verdict = holdsText(*fo.TriggersPct <= 2)
	}
	fmt.Fprintf(w, "monitor feed overhead on the insert path: %s median per batch (spread %s to %s over %d pairs of %s-row activity batches)\n",
		signedPct(fo.OverheadPct), signedPct(fo.MinPct), signedPct(fo.MaxPct), fo.Batches, thousands(float64(fo.BatchSize)))
	fmt.Fprintf(w, "median batch: %.2f ms without the feed, %.2f ms with the ingest_batch_stats row and its trigger\n", fo.MedianNoneMs, fo.MedianWithMs)
	fmt.Fprintf(w, "the feed alone (stats INSERT + trigger): %.3f ms median = %.2f%% of a batch without it\n", fo.FeedMs, fo.FeedPct)
	if fo.TriggersPct != nil {
		fmt.Fprintf(w, "the monitoring proper (the triggers feeding constraint_performance_monitor; the stats row is ingest's own): %.3f ms median = %.2f%% of a batch\n",
			*fo.TriggersMs, *fo.TriggersPct)
	} else {
		fmt.Fprintln(w, "the monitoring proper: not measured (the role may not set session_replication_role to write the stats row without its triggers)")
	}
	fmt.Fprintf(w, "target <= 2%%: %s\n", verdict)
	return nil
}
