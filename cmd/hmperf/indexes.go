package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/pflag"

	"hmperf/cmd/internal/cmdout"
	"hmperf/queries"
	"hmperf/queries/indexq"
	"hmperf/queries/writepolicy"
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
	pool, err := t.Pool(ctx, 3)
	if err != nil {
		return err
	}
	defer pool.Close()
	if rest[0] == "status" {
		return indexesStatus(ctx, e.stdout, pool, o.json)
	}
	if err := writepolicy.RefuseReplica(ctx, pool); err != nil {
		return err
	}
	if err := queries.Require(ctx, pool, "hmperf indexes process", indexq.Needs); err != nil {
		return err
	}
	// Partition maintenance first: it creates the months ahead and queues
	// the deferred indexes their strategies call for, which this run builds.
	created, err := indexq.MaintainPartitionsOneByOne(ctx, pool, t.LockPolicy(e.stderr))
	if err != nil {
		return err
	}
	if !o.json {
		fmt.Fprintf(e.stdout, "partitions: %d created ahead\n", created)
	}
	w := indexq.Worker{Pool: pool, ID: o.worker, Backoff: o.backoff, Lock: t.LockPolicy(e.stderr)}
	sum, err := w.Process(ctx, o.limit)
	if perr := cmdout.Process(e.stdout, sum, o.json); err == nil {
		err = perr
	}
	if err == nil && sum.Failed > 0 {
		err = fmt.Errorf("%d index %s failed", sum.Failed, cmdout.Plural(sum.Failed, "job", "jobs"))
	}
	return err
}

// indexesStatus reads the queue and index_creation_performance and writes them.
func indexesStatus(ctx context.Context, w io.Writer, db queries.DBTX, asJSON bool) error {
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
