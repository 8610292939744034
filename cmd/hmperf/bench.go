package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"hmperf/queries/bench"
	"hmperf/queries/monitor"
)

// benchOpts are the flags of `hmperf bench`.
type benchOpts struct {
	conn       connFlags
	table      string
	rows, reps int
	seed       uint64
	json       bool
	monitoring bool
}

func runBench(ctx context.Context, e env, args []string) error {
	var o benchOpts
	fs := newFlagSet(e, "bench")
	o.conn.register(fs)
	fs.StringVar(&o.table, "table", "all", "pair to benchmark: nutrition, symptoms, activity or all")
	fs.IntVar(&o.rows, "rows", 5000, "N rows per COPY (with --monitoring-overhead: rows per batch, default 5000 as hmperf ingest)")
	fs.IntVar(&o.reps, "reps", 5, "K interleaved repetitions (with --monitoring-overhead: batch pairs, default 40)")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the generated rows")
	fs.BoolVar(&o.json, "json", false, "print one JSON document")
	fs.BoolVar(&o.monitoring, "monitoring-overhead", false, "measure what the constraint-monitor feed costs an ingest batch instead")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("%w: bench takes no arguments (got %q)", errUsage, rest[0])
	}
	tables, err := bench.ParseTables(o.table)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if o.rows < 1 || o.reps < 1 {
		return fmt.Errorf("%w: --rows and --reps must be at least 1", errUsage)
	}
	if o.conn.readOnly {
		return errors.New("bench writes benchmark runs (and rolled-back test rows) and --read-only is set")
	}
	if o.monitoring {
		setMonitoringDefaults(fs, &o)
	}
	return benchOnTarget(ctx, e, o, tables)
}

// setMonitoringDefaults gives --rows and --reps the monitoring mode's
// defaults unless the user set them.
func setMonitoringDefaults(fs *flag.FlagSet, o *benchOpts) {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["rows"] {
		o.rows = monitor.DefaultFeedBatch
	}
	if !set["reps"] {
		o.reps = 40
	}
}

func benchOnTarget(ctx context.Context, e env, o benchOpts, tables []string) error {
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
	if o.monitoring {
		fo, err := monitor.MeasureFeedOverhead(ctx, pool, monitor.OverheadOptions{Batches: o.reps, BatchSize: o.rows, Seed: o.seed})
		if err != nil {
			return err
		}
		return printFeedOverhead(e.stdout, fo, o.json)
	}
	opts := bench.Options{Tables: tables, Rows: o.rows, Reps: o.reps, Seed: o.seed}
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
	if o.json {
		return printBenchJSON(e.stdout, res)
	}
	printBenchText(e.stdout, res)
	return nil
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

// progressLine rewrites one status line on w as the run advances.
func progressLine(w io.Writer) func(bench.Progress) {
	return func(p bench.Progress) {
		state := "running"
		if p.Done {
			state = fmt.Sprintf("%s rows/s (median so far %s)", thousands(p.RowsPerSec), thousands(p.MedianSoFar))
		}
		fmt.Fprintf(w, "\r\033[K[%d/%d] %s %s rep %d/%d: %s", p.Step, p.Steps, p.Table, p.Variant, p.Rep, p.Reps, state)
	}
}

// benchJSON is the --json document.
type benchJSON struct {
	Results       []bench.VariantResult `json:"results"`
	Comparisons   []bench.Comparison    `json:"comparisons"`
	RunID         int64                 `json:"run_id"`
	ServerVersion string                `json:"server_version"`
	Rows          int                   `json:"rows"`
	Reps          int                   `json:"reps"`
	Seed          uint64                `json:"seed"`
	Method        string                `json:"method"`
}

const benchMethod = "COPY (pgx CopyFrom) of the same generated rows into each variant, repetitions interleaved original/optimized/unconstrained, each COPY in a transaction rolled back after timing; client-side monotonic clock around the COPY; ratio_median = median of per-repetition ratios optimized/original; overhead = (t - t_unconstrained)/t per repetition, median"

func printBenchJSON(w io.Writer, r *bench.Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(benchJSON{Results: r.Results, Comparisons: r.Comparisons, RunID: r.ID, ServerVersion: r.Server.Version,
		Rows: r.Rows, Reps: r.Reps, Seed: r.Seed, Method: benchMethod})
}

func printBenchText(w io.Writer, r *bench.Result) {
	fmt.Fprintf(w, "benchmark run %d: %s rows x %d interleaved repetitions per variant, seed %d\n", r.ID, thousands(float64(r.Rows)), r.Reps, r.Seed)
	fmt.Fprintf(w, "server: %s\n", r.Server.Version)
	fmt.Fprintln(w, "method: COPY of the same rows into each variant, each COPY rolled back after timing (client clock around the COPY)")
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "table\tvariant\tmedian rows/s\tmin rows/s\tmax rows/s\toverhead vs unconstrained\t")
	for _, v := range r.Results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", v.Table, v.Variant, thousands(v.MedianRPS), thousands(v.MinRPS), thousands(v.MaxRPS), pct(v.OverheadPct))
	}
	tw.Flush()
	fmt.Fprintln(w)
	fmt.Fprintln(w, "the report's claims (\"expected\", never measured) against this run:")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "table\tclaim\tclaimed\tmeasured\tverdict")
	for _, c := range r.Comparisons {
		for _, v := range c.Verdicts {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Pair, claimWording[v.Claim], claimed(v), measured(c, v), bench.VerdictText(v.Holds))
		}
	}
	tw.Flush()
}

var claimWording = map[string]string{
	"improvement_pct": "improvement over original",
	"ops_per_sec":     "optimized throughput",
	"overhead_pct":    "optimized constraint overhead",
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
		return thousands(v.Measured) + " rows/s (median)"
	case "overhead_pct":
		return pct(v.Measured) + " (median)"
	}
	return fmt.Sprintf("%s (ratio %.2f, spread %.2f-%.2f)", signedPct(v.Measured), c.RatioMedian, c.RatioMin, c.RatioMax)
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

func printFeedOverhead(w io.Writer, fo monitor.FeedOverhead, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(fo)
	}
	// The monitoring proper (the triggers feeding the monitor, measured
	// directly) decides where the role can measure it; otherwise both
	// coarser readings, which also count the stats row, must be within it.
	verdict := bench.VerdictText(fo.OverheadPct <= 2 && fo.FeedPct <= 2)
	if fo.TriggersPct != nil {
		verdict = bench.VerdictText(*fo.TriggersPct <= 2)
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
