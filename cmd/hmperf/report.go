package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"hmperf/cmd/internal/cmdout"
	"hmperf/tui/recording"
)

// reportOpts are the flags of report.
type reportOpts struct {
	globals
	from, to string
}

func (o *reportOpts) flags(fs *pflag.FlagSet) {
	fs.StringVar(&o.from, "from", "", "start of the window (RFC 3339, e.g. 2026-12-06T02:00:00Z, or 15:04 / 15:04:05 on the recording's first day, UTC)")
	fs.StringVar(&o.to, "to", "", "end of the window (as --from)")
}

func runReport(_ context.Context, e env, o *reportOpts, files []string) error {
	fromS, toS, asJSON := o.from, o.to, o.json
	if len(files) == 0 {
		return fmt.Errorf("%w: report needs a recording: hmperf report FILE [FILE.1 ...] [--from T] [--to T] [--json]", errUsage)
	}
	records, err := readRecordings(e.stderr, files)
	if err != nil {
		return err
	}
	var day time.Time
	if len(records) > 0 {
		day = records[0].At.UTC().Truncate(24 * time.Hour)
	}
	from, err := parseWhen("--from", fromS, day)
	if err != nil {
		return err
	}
	to, err := parseWhen("--to", toS, day)
	if err != nil {
		return err
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		return fmt.Errorf("%w: --to %s is before --from %s", errUsage, toS, fromS)
	}
	rep := recording.Summarize(records, from, to)
	if asJSON {
		return cmdout.JSON(e.stdout, rep)
	}
	printReport(e.stdout, rep)
	return nil
}

// readRecordings reads every complete record of files (a recording and
// its rotated predecessors, in any order), in time order.
func readRecordings(stderr io.Writer, files []string) ([]recording.Record, error) {
	var records []recording.Record
	for _, f := range files {
		_, recs, torn, err := recording.ReadFile(f)
		if err != nil {
			return nil, err
		}
		if torn {
			fmt.Fprintf(stderr, "hmperf: %s ends in an incomplete record (its writer was killed); read up to the last complete one\n", f)
		}
		records = append(records, recs...)
	}
	sortRecords(records)
	return records, nil
}

func sortRecords(rs []recording.Record) {
	slices.SortStableFunc(rs, func(a, b recording.Record) int { return a.At.Compare(b.At) })
}

// parseWhen reads a window bound: RFC 3339, or a time of day on day.
func parseWhen(flagName, s string, day time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"15:04:05", "15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			return day.Add(time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute + time.Duration(t.Second())*time.Second), nil
		}
	}
	return time.Time{}, fmt.Errorf("%w: %s %q is not a time (RFC 3339 such as 2026-12-06T02:00:00Z, or 15:04[:05] UTC)", errUsage, flagName, s)
}

func printReport(w io.Writer, r recording.Report) {
	if r.Samples == 0 {
		fmt.Fprintln(w, "no samples in the window")
		return
	}
	fmt.Fprintf(w, "%s to %s, %d samples\n\n", r.From.UTC().Format(time.RFC3339), r.To.UTC().Format(time.RFC3339), r.Samples)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "table\trows observed\tpeak rows/s")
	for _, t := range r.Tables {
		fmt.Fprintf(tw, "%s\t%d\t%.0f\n", t.Table, t.ObservedRows, t.PeakRowsPerSec)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nalerts:")
	if len(r.Alerts) == 0 {
		fmt.Fprintln(w, "  none fired")
	}
	for _, a := range r.Alerts {
		cleared := "still firing at the end"
		if a.ClearedAt != nil {
			cleared = "cleared " + a.ClearedAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(w, "  %s %s %s: fired %s, %s\n", a.Severity, a.Name, a.Table, a.FiredAt.UTC().Format(time.RFC3339), cleared)
	}
	if l := r.WorstLag; l != nil {
		fmt.Fprintf(w, "\nworst replication lag: %s at %s: %s, %s bytes\n", l.Server, l.At.UTC().Format(time.RFC3339), seconds(l.Seconds), bytesOf(l.Bytes))
	}
	if lw := r.LongestLockWait; lw != nil {
		fmt.Fprintf(w, "\nlongest lock wait: pid %d waited %.0fs at %s (%s), root blocker pid %d (%s) %s\n",
			lw.PID, lw.Seconds, lw.At.UTC().Format(time.RFC3339), lw.Query, lw.RootPID, lw.RootState, lw.RootQuery)
	}
	if len(r.Benchmarks) > 0 {
		fmt.Fprintln(w, "\nbenchmarks:")
		for _, b := range r.Benchmarks {
			fmt.Fprintf(w, "  run %d %s %s: %s\n", b.ID, b.At.UTC().Format(time.RFC3339), b.Table, b.Status)
		}
	}
}

func bytesOf(v *float64) string {
	if v == nil {
		return "?"
	}
	return fmt.Sprintf("%.0f", *v)
}
