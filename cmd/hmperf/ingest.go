package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/pflag"

	"hmperf/cmd/internal/ingestcmd"
	"hmperf/engine"
)

// ingestOpts are the flags of `hmperf ingest`.
type ingestOpts struct {
	globals
	ingestcmd.Options
}

func (o *ingestOpts) flags(fs *pflag.FlagSet) {
	fs.IntVar(&o.Sample, "sample", 0, "ingest N generated records")
	fs.Uint64Var(&o.Seed, "seed", 1, "generator seed: the same seed gives the same records")
	fs.Float64Var(&o.DupRate, "dup-rate", engine.DefaultDupRate, "share of generated records that repeat an earlier one")
	fs.Float64Var(&o.InvalidRate, "invalid-rate", engine.DefaultInvalidRate, "share of generated records with one value out of range")
	fs.StringVar(&o.Types, "types", "", "comma-separated kinds to generate (heart_rate, blood_pressure, sleep, workout, activity, nutrition, symptom); default all")
	fs.StringVar(&o.File, "file", "", "ingest a payload file in the service's JSON format ('-' for stdin)")
	fs.IntVar(&o.BatchSize, "batch-size", 5000, "records per batch (one transaction each)")
	fs.StringVar(&o.Context, "context", "bulk-import", "validation context: api, user-input, bulk-import, migration, testing")
	fs.StringVar(&o.Skip, "skip-validation", "", "comma-separated contexts whose records skip Go validation (the database still checks them)")
	fs.BoolVar(&o.RowFKChecks, "row-fk-checks", false, "keep PostgreSQL's per-row foreign-key checks instead of one lock per user and batch")
	fs.StringVar(&o.Target, "target", "", "where rows go: live or sandbox (hmperf_sandbox twins); default live for --file and on a database hmperf created, sandbox for generated rows on any other")
	fs.BoolVar(&o.CreateUsers, "create-users", false, "add the users the records name to the live users table (the service's: by default a record whose user does not exist is rejected as \"unknown user\"); the ids added are printed")
}

func runIngest(ctx context.Context, e env, o *ingestOpts, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("%w: ingest takes no arguments (got %q)", errUsage, args[0])
	}
	if err := o.Check(); err != nil {
		return err
	}
	if o.conn.readOnly {
		return errors.New("ingest writes rows and --read-only is set")
	}
	opts := o.Options
	opts.JSON = o.json
	openDB := func(ctx context.Context) (*target, error) { return openSchema(ctx, o.conn, e.stderr) }
	return ingestcmd.Run(ctx, opts, ingestcmd.IO{Out: e.stdout, Err: e.stderr, Terminal: isTerminal(e.stderr)}, openDB)
}
