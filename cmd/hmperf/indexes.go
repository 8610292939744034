package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"hmperf/queries"
	"hmperf/queries/indexq"
)

// indexesOpts are the flags of `hmperf indexes`.
type indexesOpts struct {
	globals
	limit   int
	worker  string
	backoff time.Duration
}

func (o *indexesOpts) flags(fs *pflag.FlagSet) {
	fs.IntVar(&o.limit, "limit", 0, "process: claim at most this many jobs (0: until the queue is empty)")
	fs.StringVar(&o.worker, "worker", indexq.DefaultWorkerID(), "process: worker id recorded on the jobs")
	fs.DurationVar(&o.backoff, "backoff", indexq.DefaultBackoff, "process: wait before the first retry of a failed build (doubles each retry)")
}

func runIndexes(ctx context.Context, e env, o *indexesOpts, rest []string) error {
	if len(rest) != 1 || (rest[0] != "status" && rest[0] != "process") {
		return fmt.Errorf("%w: indexes needs one action: status or process", errUsage)
	}
	if rest[0] == "process" && o.conn.readOnly {
		return errors.New("indexes process builds indexes and --read-only is set")
	}
	t, err := openSchema(ctx, o.conn, e.stderr)
	if err != nil {
		return err
	}
	defer t.Close()
	// Three connections: the claim and bookkeeping, the build, and the
	// status reads.
	pool, err := t.pool(ctx, 3)
	if err != nil {
		return err
	}
	defer pool.Close()
	if rest[0] == "status" {
		return indexesStatus(ctx, e.stdout, pool, o.json)
	}
	if err := refuseReplica(ctx, pool); err != nil {
		return err
	}
	if err := queries.Require(ctx, pool, "hmperf indexes process", indexq.Needs); err != nil {
		return err
	}
	// Partition maintenance first: it creates the months ahead and queues
	// the deferred indexes their strategies call for, which this run builds.
	created, err := indexq.MaintainPartitionsOneByOne(ctx, pool, t.lockPolicy(e.stderr))
	if err != nil {
		return err
	}
	if !o.json {
		fmt.Fprintf(e.stdout, "partitions: %d created ahead\n", created)
	}
	w := indexq.Worker{Pool: pool, ID: o.worker, Backoff: o.backoff, Lock: t.lockPolicy(e.stderr)}
	sum, err := w.Process(ctx, o.limit)
	if perr := printProcess(e.stdout, sum, o.json); err == nil {
		err = perr
	}
	if err == nil && sum.Failed > 0 {
		err = fmt.Errorf("%d index %s failed", sum.Failed, plural(sum.Failed, "job", "jobs"))
	}
	return err
}

// indexesStatusJSON is the --json document of `indexes status`.
type indexesStatusJSON struct {
	Queue       []indexq.JobStatus `json:"queue"`
	Performance []indexq.Perf      `json:"performance"`
}

func indexesStatus(ctx context.Context, w io.Writer, db queries.DBTX, asJSON bool) error {
	queue, err := indexq.Status(ctx, db)
	if err != nil {
		return err
	}
	perf, err := indexq.Performance(ctx, db)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(w, indexesStatusJSON{Queue: nonNil(queue), Performance: nonNil(perf)})
	}
	printQueue(w, queue)
	fmt.Fprintln(w)
	printPerf(w, perf)
	return nil
}

func printQueue(w io.Writer, queue []indexq.JobStatus) {
	fmt.Fprintf(w, "deferred index queue: %d %s\n", len(queue), plural(len(queue), "job", "jobs"))
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

func printPerf(w io.Writer, perf []indexq.Perf) {
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

func printProcess(w io.Writer, sum indexq.Summary, asJSON bool) error {
	if asJSON {
		sum.Outcomes = nonNil(sum.Outcomes)
		return writeJSON(w, sum)
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
