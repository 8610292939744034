package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"hmperf/engine"
	"hmperf/queries/bench"
)

// claimFlags are the flags of `hmperf bench --claim`.
type claimFlags struct {
	name          string
	partitionSize string
	resendShare   float64
	keys          int
	uploads       int
}

func (c *claimFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&c.name, "claim", "", "measure one of the report's other claims instead of the insert pairs: index-strategy, dedup-memory or validation-cache")
	fs.StringVar(&c.partitionSize, "partition-size", "100MB", "--claim index-strategy: the heap size each strategy's partition is loaded to (kB, MB or GB)")
	fs.Float64Var(&c.resendShare, "resend-share", 0.5, "--claim validation-cache: the share of each upload re-sent from the previous one, as the iOS app re-sends overlapping windows")
	fs.IntVar(&c.keys, "keys", 100_000, "--claim dedup-memory: how many distinct keys each dedup layout holds")
	fs.IntVar(&c.uploads, "uploads", 200, "--claim validation-cache: how many uploads of "+thousands(engine.DefaultUploadSize)+" records are replayed per repetition")
}

// parseSize reads --partition-size: a positive whole number of kB, MB or GB
// (powers of 1024), or of bytes without a unit.
func parseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"GB", 1 << 30}, {"MB", 1 << 20}, {"kB", 1 << 10}, {"KB", 1 << 10}, {"B", 1}, {"", 1}}
	for _, u := range units {
		num, ok := strings.CutSuffix(strings.TrimSpace(s), u.suffix)
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
		if err != nil || n < 1 || n > (1<<62)/u.mult {
			break
		}
		return n * u.mult, nil
	}
	return 0, badFlag("bench", "partition-size", "a positive size such as 100MB, 512kB or 1GB", s)
}

// claimOptions checks the claim flags and turns them into bench options.
func (o benchOpts) claimOptions(reps int) (bench.ClaimOptions, error) {
	if _, err := bench.ParseClaim(o.claim.name); err != nil {
		return bench.ClaimOptions{}, fmt.Errorf("%w: %v", errUsage, err)
	}
	size, err := parseSize(o.claim.partitionSize)
	if err != nil {
		return bench.ClaimOptions{}, err
	}
	table := o.table
	if table == "all" {
		table = "nutrition"
	}
	if _, err := bench.PairNamed(table); err != nil {
		return bench.ClaimOptions{}, fmt.Errorf("%w: %v", errUsage, err)
	}
	return bench.ClaimOptions{Reps: reps, MaxTime: o.maxTime, CIWidth: o.ciWidth, Table: table, PartitionBytes: size, Seed: o.seed,
		Keys: o.claim.keys, ResendShare: o.claim.resendShare, Uploads: o.claim.uploads}, nil
}

// benchClaim runs one claim run and prints it.
func benchClaim(ctx context.Context, e env, o benchOpts, pool bench.DB, opts bench.ClaimOptions) error {
	if isTerminal(e.stderr) {
		opts.Progress = func(claim string, rep int) { fmt.Fprintf(e.stderr, "\r\033[K%s: repetition %d done", claim, rep) }
	}
	run, err := bench.RunClaim(ctx, pool, o.claim.name, opts)
	if opts.Progress != nil {
		fmt.Fprint(e.stderr, "\r\033[K")
	}
	if err != nil {
		return err
	}
	if o.report != "" {
		if err := writeClaimReport(o.report, run, reproduce(o.set)); err != nil {
			return err
		}
	}
	if o.json {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			*bench.ClaimRun
			IntervalMethod string `json:"interval_method"`
			About          string `json:"about_tolerance"`
		}{run, bench.IntervalMethod, aboutRule})
	}
	printClaimText(e.stdout, run)
	return nil
}

// aboutRule says how a claim stated as one figure is judged.
var aboutRule = fmt.Sprintf("a claim stated as one figure holds when the whole 95%% interval lies within ±%d%% of it, does not hold when it lies wholly outside; a range is judged at its lower end",
	int(bench.AboutTolerance*100))

func printClaimText(w io.Writer, r *bench.ClaimRun) {
	fmt.Fprintf(w, "claim run %d: %s, %d interleaved repetitions", r.ID, r.Claim, r.Reps)
	if r.Auto {
		fmt.Fprint(w, " (--reps auto)")
	}
	fmt.Fprintf(w, "\nparameters: %s\nmethod: %s\nserver: %s\nintervals: %s\njudged: %s\n\n", paramsLine(r.Params), r.Method, r.Server.Version, bench.IntervalMethod, aboutRule)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "subject\tmeasured\tmedian\t95% interval\treps")
	for _, f := range r.Figures {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", f.Subject, f.Name, figureValue(f.Median, f.Unit, f.Reps), ciText(f.Low, f.High, func(v float64) string { return unitValue(v, f.Unit) }), f.Reps)
	}
	tw.Flush()
	fmt.Fprintln(w)
	fmt.Fprintln(w, "the report's claims (never measured) against this run:")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "claim\tclaimed\tmeasured (median)\t95% interval\treps\tverdict")
	var notes []string
	for _, v := range r.Verdicts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", v.Wording, unitValue(v.Claimed, v.Unit), unitValue(v.Measured, v.Unit),
			ciText(v.CILow, v.CIHigh, func(x float64) string { return unitValue(x, v.Unit) }), v.Reps, v.Verdict.Verdict)
		if v.Why != "" {
			notes = append(notes, v.Wording+": "+v.Why)
		}
	}
	tw.Flush()
	for _, f := range r.Figures {
		if f.Note != "" {
			notes = append(notes, f.Subject+" "+f.Name+": "+f.Note)
		}
	}
	for _, n := range append(notes, r.Notes...) {
		fmt.Fprintln(w, "  "+n)
	}
}

func paramsLine(p map[string]string) string {
	var parts []string
	for _, k := range []string{"table", "partition_bytes", "rows", "indexes", "keys", "resend_share", "uploads", "upload_size"} {
		if v, ok := p[k]; ok {
			parts = append(parts, k+"="+v)
		}
	}
	return strings.Join(parts, " ")
}

// figureValue is a figure's median, or "not measured" when no repetition
// measured it.
func figureValue(v float64, unit string, reps int) string {
	if reps == 0 {
		return "not measured"
	}
	return unitValue(v, unit)
}

// unitValue prints v in its unit.
func unitValue(v float64, unit string) string {
	switch unit {
	case "%":
		return signedPct(v)
	case "s":
		return strconv.FormatFloat(v, 'g', 4, 64) + " s"
	case "ms":
		return strconv.FormatFloat(v, 'f', 2, 64) + " ms"
	case bench.RowsPerSecUnit:
		return thousands(v) + " rows/s"
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " " + unit
}

// writeClaimReport writes dir/claim-<name>.md: the run's figures, verdicts
// and the command that repeats it.
func writeClaimReport(dir string, r *bench.ClaimRun, cmdline string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("bench report: %w", err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# hmperf claim run %d: %s\n\nReproduce with:\n\n```\n%s\n```\n\n", r.ID, r.Claim, cmdline)
	fmt.Fprintf(&b, "- repetitions: %d\n- parameters: %s\n- method: %s\n- server: %s\n- intervals: %s\n- judged: %s\n",
		r.Reps, paramsLine(r.Params), r.Method, r.Server.Version, bench.IntervalMethod, aboutRule)
	b.WriteString("\n## Claims\n\n| claim | claimed | measured (median) | 95% interval | reps | verdict |\n|---|---|---|---|---|---|\n")
	for _, v := range r.Verdicts {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %d | **%s** |\n", v.Wording, unitValue(v.Claimed, v.Unit), unitValue(v.Measured, v.Unit),
			ciText(v.CILow, v.CIHigh, func(x float64) string { return unitValue(x, v.Unit) }), v.Reps, v.Verdict.Verdict)
	}
	b.WriteString("\n## Measurements\n\n| subject | measured | median | 95% interval | reps | note |\n|---|---|---|---|---|---|\n")
	for _, f := range r.Figures {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %d | %s |\n", f.Subject, f.Name, figureValue(f.Median, f.Unit, f.Reps),
			ciText(f.Low, f.High, func(v float64) string { return unitValue(v, f.Unit) }), f.Reps, f.Note)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "\n%s\n", n)
	}
	if err := os.WriteFile(filepath.Join(dir, "claim-"+r.Claim+".md"), []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("bench report: %w", err)
	}
	return nil
}
