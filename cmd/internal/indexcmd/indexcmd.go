// Package indexcmd is what `hmperf indexes` does once its command line is
// parsed and its server resolved: show the deferred-index queue, or
// maintain the partitions and build the queued indexes.
package indexcmd

import (
	"context"
	"fmt"
	"io"
	"time"

	"hmperf/cmd/internal/cmdout"
	"hmperf/cmd/internal/dbtarget"
	"hmperf/queries"
	"hmperf/queries/indexq"
	"hmperf/queries/writepolicy"
)

// Options are where indexes talks and what its command line asked for.
type Options struct {
	Out, Err io.Writer
	JSON     bool
	Limit    int           // process: jobs to claim at most; 0 until the queue is empty
	Worker   string        // process: worker id recorded on the jobs
	Backoff  time.Duration // process: wait before the first retry
}

// Run runs action ("status" or "process") on t.
func Run(ctx context.Context, t *dbtarget.Target, action string, o Options) error {
	// Three connections: the claim and bookkeeping, the build, and the
	// status reads.
	pool, err := t.Pool(ctx, 3)
	if err != nil {
		return err
	}
	defer pool.Close()
	if action == "status" {
		return status(ctx, o.Out, pool, o.JSON)
	}
	if err := writepolicy.RefuseReplica(ctx, pool); err != nil {
		return err
	}
	if err := queries.Require(ctx, pool, "hmperf indexes process", indexq.Needs); err != nil {
		return err
	}
	// Partition maintenance first: it creates the months ahead and queues
	// the deferred indexes their strategies call for, which this run builds.
	created, err := indexq.MaintainPartitionsOneByOne(ctx, pool, t.LockPolicy(o.Err))
	if err != nil {
		return err
	}
	if !o.JSON {
		fmt.Fprintf(o.Out, "partitions: %d created ahead\n", created)
	}
	w := indexq.Worker{Pool: pool, ID: o.Worker, Backoff: o.Backoff, Lock: t.LockPolicy(o.Err)}
	sum, err := w.Process(ctx, o.Limit)
	if perr := cmdout.Process(o.Out, sum, o.JSON); err == nil {
		err = perr
	}
	if err == nil && sum.Failed > 0 {
		err = fmt.Errorf("%d index %s failed", sum.Failed, cmdout.Plural(sum.Failed, "job", "jobs"))
	}
	return err
}

// status reads the queue and index_creation_performance and writes them.
func status(ctx context.Context, w io.Writer, db queries.DBTX, asJSON bool) error {
	queue, err := indexq.Status(ctx, db)
	if err != nil {
		return err
	}
	perf, err := indexq.Performance(ctx, db)
	if err != nil {
		return err
	}
	return cmdout.Indexes(w, queue, perf, asJSON)
}
