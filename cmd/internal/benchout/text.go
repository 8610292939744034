// Package benchout writes a benchmark's results for people and scripts:
// the text table and the --json document of `hmperf bench`, the live
// progress line, the Markdown report with its charts, the feed overhead of
// `bench --monitoring` and the stored runs of `bench --history`.
package benchout

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"hmperf/queries/bench"
)

// FsyncWarning says what fsync=off does to the figures, or "".
func FsyncWarning(r *bench.Result) string {
	if r.Server.Settings["fsync"] != "off" {
		return ""
	}
	return "fsync is off on this server: nothing is flushed to disk, so committed throughput is higher than a production server's"
}

// ProgressLine rewrites one status line on w as the run advances: the
// repetition, the write in flight or just done, and the pair's current
// interval of optimized/original.
func ProgressLine(w io.Writer) func(bench.Progress) {
	return func(p bench.Progress) {
		reps := strconv.Itoa(p.Reps)
		if p.Reps == 0 {
			reps = "auto"
		}
		state := "running"
		if p.Done {
			state = fmt.Sprintf("%s rows/s, ratio %s", Thousands(p.RowsPerSec), intervalText(p.Ratio))
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

// JSON writes r as the --json document.
func JSON(w io.Writer, r *bench.Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	warnings := []string{}
	if warn := FsyncWarning(r); warn != "" {
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

// Text writes r as the text report: the run, its settings, each
// variant's figures and each claim's verdict.
func Text(w io.Writer, r *bench.Result) {
	reps := fmt.Sprintf("%d interleaved repetitions", r.Reps)
	if r.Auto {
		reps += " (--reps auto)"
	}
	fmt.Fprintf(w, "benchmark run %d: %s rows x %s per variant, seed %d\n", r.ID, Thousands(float64(r.Rows)), reps, r.Seed)
	fmt.Fprintf(w, "method: %s\n", r.Setup.Describe())
	fmt.Fprintf(w, "server: %s\n", r.Server.Version)
	fmt.Fprintf(w, "settings: %s\n", settingsLine(r.Server.Settings))
	fmt.Fprintf(w, "table sizes before: %s\n", sizesLine(r.SizesBefore))
	fmt.Fprintf(w, "intervals: %s\n", bench.IntervalMethod)
	fmt.Fprintf(w, "overhead: %s\n", overheadDefinition)
	if warn := FsyncWarning(r); warn != "" {
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
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", v.Table, v.Variant, Thousands(v.MedianRPS), ciText(v.RPSLow, v.RPSHigh, Thousands),
			Thousands(v.MinRPS), Thousands(v.MaxRPS), over, overIv)
	}
	tw.Flush()
	fmt.Fprintln(w)
	fmt.Fprintln(w, "the report's claims (\"expected\", never measured) against this run:")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "table\tclaim\tclaimed\tmeasured (median)\t95% interval\treps\tverdict")
	var notes []string
	for _, c := range r.Comparisons {
		for _, v := range c.Verdicts {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", c.Pair, bench.ClaimWording(v.Claim), claimed(v), measured(c, v), verdictCI(v), v.Reps, v.Verdict)
			if v.Why != "" {
				notes = append(notes, fmt.Sprintf("%s, %s: %s: %s", c.Pair, bench.ClaimWording(v.Claim), v.Verdict, v.Why))
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
		parts[i] = fmt.Sprintf("%s %s kB", n, Thousands(float64(sizes[n])/1024))
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
		return ciText(v.CILow, v.CIHigh, Thousands)
	}
	return ciText(v.CILow, v.CIHigh, signedPct)
}

func claimed(v bench.Verdict) string {
	switch v.Claim {
	case bench.ClaimThroughput:
		return Thousands(v.Claimed) + " ops/s"
	case bench.ClaimOverhead:
		return "<= " + strconv.FormatFloat(v.Claimed, 'f', -1, 64) + "%"
	}
	return ">= " + strconv.FormatFloat(v.Claimed, 'f', -1, 64) + "%"
}

func measured(c bench.Comparison, v bench.Verdict) string {
	switch v.Claim {
	case bench.ClaimThroughput:
		return Thousands(v.Measured) + " rows/s"
	case bench.ClaimOverhead:
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

func pct(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) + "%" }

func signedPct(v float64) string { return fmt.Sprintf("%+.1f%%", v) }

// Thousands formats v rounded to an integer with comma separators.
func Thousands(v float64) string {
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

// FeedOverhead writes what feeding the constraint monitor costs a batch,
// as text or JSON.
func FeedOverhead(w io.Writer, fo bench.FeedOverhead, asJSON bool) error {
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
		signedPct(fo.OverheadPct), signedPct(fo.MinPct), signedPct(fo.MaxPct), fo.Batches, Thousands(float64(fo.BatchSize)))
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
