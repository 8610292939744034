package cmdout

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"hmperf/queries/monitor"
)

// Sample writes one sample of the service's writes: JSON (one document
// per line while sampling goes on, or once with once) or a table; with
// once, an in-memory baseline prints nothing.
func Sample(w io.Writer, r monitor.SampleResult, once, asJSON bool) error {
	r.Tables = NonNil(r.Tables)
	if once && r.InMemory && r.Status == monitor.SampleBaseline {
		return nil // --once prints the one sample that follows
	}
	if asJSON && once {
		return JSON(w, r)
	}
	if asJSON {
		// One document per line while sampling goes on.
		return json.NewEncoder(w).Encode(r)
	}
	at := r.SampledAt.UTC().Format(time.RFC3339)
	switch r.Status {
	case monitor.SampleBaseline:
		fmt.Fprintf(w, "%s baseline: counters recorded, the next sample shows the writes since now (pg_stat_statements: %s)\n", at, r.Statements)
		return nil
	case monitor.SampleBusy:
		fmt.Fprintf(w, "%s busy: another process is sampling; nothing done\n", at)
		return nil
	}
	fmt.Fprintf(w, "%s sampled %.1f s of writes (pg_stat_statements: %s)\n", at, deref(r.IntervalSeconds), r.Statements)
	if r.InMemory {
		fmt.Fprintln(w, "  sampled in memory: the writes since this command's previous sample, stored nowhere")
	}
	if r.StatsReset {
		fmt.Fprintln(w, "  the statistics were reset or the server restarted since the previous sample: writes before that are lost")
	}
	if len(r.Tables) == 0 {
		fmt.Fprintln(w, "  no writes")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "table\trows\trolled back\thmperf ingest\tthroughput rows/s\tinsert speed rows/s\tms per 1,000 rows")
	for _, ts := range r.Tables {
		rolled := fmt.Sprint(ts.RolledBack)
		if ts.RollbackUnknown > 0 {
			rolled += fmt.Sprintf(" (+? in %d)", ts.RollbackUnknown)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%s\t%s\t%s\n", ts.Table, ts.Rows, rolled, ts.HmperfRows,
			orUnknown(ts.Throughput, 1), orUnknown(ts.InsertSpeed, 1), orUnknown(ts.MsPer1000Rows, 2))
	}
	return tw.Flush()
}

// orUnknown renders v with prec decimals, or "unknown" when nothing
// measured it (never 0).
func orUnknown(v *float64, prec int) string {
	if v == nil {
		return "unknown"
	}
	return fmt.Sprintf("%.*f", prec, *v)
}

func deref(v *float64) float64 {
	if v == nil {
		return 0
	}
	return *v
}
