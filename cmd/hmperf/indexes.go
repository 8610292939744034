package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"hmperf/cmd/internal/indexcmd"
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
	return indexcmd.Run(ctx, t, rest[0], indexcmd.Options{Out: e.stdout, Err: e.stderr, JSON: o.json,
		Limit: o.limit, Worker: o.worker, Backoff: o.backoff})
}
