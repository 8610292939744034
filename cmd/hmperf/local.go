package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"hmperf/cmd/internal/cmdout"
	"hmperf/cmd/internal/dbtarget"
	"hmperf/queries/pglaunch"
)

// runLocal starts the embedded PostgreSQL with the schema applied, and with
// --replicas N that many streaming replicas of it, and keeps them until
// interrupted, so a DBA can point psql (or a second hmperf) at them.
// localOpts are the flags of `hmperf local`.
type localOpts struct {
	globals
	replicas int
}

func (o *localOpts) flags(fs *pflag.FlagSet) {
	fs.IntVar(&o.replicas, "replicas", 0, "also start N streaming replicas of the primary (pg_basebackup -R), each with its own data directory and private socket; one connection string per server is printed, primary first")
}

func runLocal(ctx context.Context, e env, o *localOpts, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("%w: local takes no arguments (got %q)", errUsage, args[0])
	}
	if o.replicas > 0 {
		return runLocalSet(ctx, e, o.replicas)
	}
	t, err := dbtarget.StartEmbedded(ctx, connFlags{command: "local"}.settings(), e.stderr)
	if err != nil {
		return err
	}
	defer t.Close()
	if err := t.MigrateEmbedded(ctx); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s\n", t.Cluster().DSN("postgres"))
	fmt.Fprintln(e.stderr, "hmperf: embedded PostgreSQL ready (connection string above); ^C stops it and removes its files")
	<-ctx.Done()
	return nil
}

// runLocalSet is `local --replicas n`: a primary with the schema applied
// and n replicas that have replayed it, until interrupted.
func runLocalSet(ctx context.Context, e env, n int) (err error) {
	fmt.Fprintf(e.stderr, "hmperf: starting a throwaway embedded PostgreSQL primary and %d streaming %s, discarded on exit\n", n, cmdout.Plural(n, "replica", "replicas"))
	set, err := pglaunch.StartSet(ctx, pglaunch.Options{Fetch: pglaunch.FetchOptions{Progress: e.stderr}}, n)
	if err != nil {
		return err
	}
	defer func() {
		if serr := set.Stop(); serr != nil {
			fmt.Fprintf(e.stderr, "hmperf: stopping the embedded servers: %v\n", serr)
		}
	}()
	t, err := dbtarget.NewEmbedded(set.Primary, connFlags{command: "local"}.settings())
	if err != nil {
		return err
	}
	if err := t.MigrateEmbedded(ctx); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := set.WaitCaughtUp(wctx); err != nil {
		return err
	}
	for _, c := range set.All() {
		fmt.Fprintf(e.stdout, "%s\n", c.DSN("postgres"))
	}
	fmt.Fprintf(e.stderr, "hmperf: primary and %d %s ready (connection strings above, primary first); ^C stops them and removes their files\n", n, cmdout.Plural(n, "replica", "replicas"))
	<-ctx.Done()
	return nil
}
