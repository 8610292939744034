package benchout

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"hmperf/queries/bench"
)

// ClaimJSON writes a claim run as the --json document: the run with its
// figures and verdicts, and how intervals and figures are judged.
func ClaimJSON(w io.Writer, r *bench.ClaimRun) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		*bench.ClaimRun
		IntervalMethod string `json:"interval_method"`
		About          string `json:"about_tolerance"`
	}{r, bench.IntervalMethod, aboutRule})
}

// aboutRule says how a claim stated as one figure is judged.
var aboutRule = fmt.Sprintf("a claim stated as one figure holds when the whole 95%% interval lies within ±%d%% of it, does not hold when it lies wholly outside; a range is judged at its lower end",
	int(bench.AboutTolerance*100))

// ClaimText writes a claim run as text: its measurements, then the
// report's claims against them.
func ClaimText(w io.Writer, r *bench.ClaimRun) {
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
		return Thousands(v) + " rows/s"
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " " + unit
}

// WriteClaimReport writes dir/claim-<name>.md: the run's figures, verdicts
// and the command that repeats it.
func WriteClaimReport(dir string, r *bench.ClaimRun, cmdline string) error {
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
