package cmdout

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"hmperf/queries/indexq"
)

// IndexesStatus is the --json document of `indexes status`.
type IndexesStatus struct {
	Queue       []indexq.JobStatus `json:"queue"`
	Performance []indexq.Perf      `json:"performance"`
}

// Queue writes the deferred-index queue as a table.
func Queue(w io.Writer, queue []indexq.JobStatus) {
	fmt.Fprintf(w, "deferred index queue: %d %s\n", len(queue), Plural(len(queue), "job", "jobs"))
	if len(queue) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "id\ttable\tindex\tmethod\tstrategy\tstatus\tattempts\tprogress\terror")
	for _, j := range queue {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%d/%d\t%s\t%s\n", j.ID, j.Table, j.Index, j.Method, j.Strategy, j.Status,
			j.Attempts, j.MaxAttempts, progressText(j.Progress), oneLine(j.Error))
	}
	tw.Flush()
}

func progressText(p *indexq.Progress) string {
	if p == nil {
		return "-"
	}
	s := p.Phase
	if p.BlocksTotal > 0 {
		s += fmt.Sprintf(" %d/%d blocks", p.BlocksDone, p.BlocksTotal)
	}
	if p.TuplesTotal > 0 {
		s += fmt.Sprintf(" %d/%d tuples", p.TuplesDone, p.TuplesTotal)
	}
	return s
}

// Perf writes index_creation_performance as a table.
func Perf(w io.Writer, perf []indexq.Perf) {
	fmt.Fprintln(w, "index_creation_performance:")
	if len(perf) == 0 {
		fmt.Fprintln(w, "(no jobs)")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "id\tindex\tstatus\tduration\tsize")
	for _, p := range perf {
		dur, size := "-", "-"
		if p.DurationSeconds != nil {
			dur = fmt.Sprintf("%.3fs", *p.DurationSeconds)
		}
		if p.SizeBytes != nil {
			size = fmt.Sprintf("%d bytes", *p.SizeBytes)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", p.ID, p.Index, p.Status, dur, size)
	}
	tw.Flush()
}

// Process writes what `indexes process` did: each job's outcome and the
// totals, as text or JSON.
func Process(w io.Writer, sum indexq.Summary, asJSON bool) error {
	if asJSON {
		sum.Outcomes = NonNil(sum.Outcomes)
		return JSON(w, sum)
	}
	for _, o := range sum.Outcomes {
		line := fmt.Sprintf("job %d %s: %s (attempt %d)", o.JobID, o.Index, o.Status, o.Attempt)
		if o.Error != "" {
			line += ": " + oneLine(o.Error)
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintf(w, "indexes process: %d built, %d failed, %d retries, %d postponed\n", sum.Built, sum.Failed, sum.Retried, sum.Postponed)
	return nil
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }

// Indexes writes `indexes status`: the queue and index_creation_performance,
// as tables or one JSON document.
func Indexes(w io.Writer, queue []indexq.JobStatus, perf []indexq.Perf, asJSON bool) error {
	if asJSON {
		return JSON(w, IndexesStatus{Queue: NonNil(queue), Performance: NonNil(perf)})
	}
	Queue(w, queue)
	fmt.Fprintln(w)
	Perf(w, perf)
	return nil
}
