package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/pflag"

	"hmperf/cmd/internal/cmdout"
	"hmperf/engine"
	"hmperf/queries/ingest"
	"hmperf/queries/writepolicy"
)

// ingestOpts are the flags of `hmperf ingest`.
type ingestOpts struct {
	globals
	sample      int
	seed        uint64
	dupRate     float64
	invalidRate float64
	types       string
	file        string
	batchSize   int
	context     string
	skip        string
	rowFKChecks bool
	target      string
	createUsers bool
}

func (o *ingestOpts) flags(fs *pflag.FlagSet) {
	fs.IntVar(&o.sample, "sample", 0, "ingest N generated records")
	fs.Uint64Var(&o.seed, "seed", 1, "generator seed: the same seed gives the same records")
	fs.Float64Var(&o.dupRate, "dup-rate", engine.DefaultDupRate, "share of generated records that repeat an earlier one")
	fs.Float64Var(&o.invalidRate, "invalid-rate", engine.DefaultInvalidRate, "share of generated records with one value out of range")
	fs.StringVar(&o.types, "types", "", "comma-separated kinds to generate (heart_rate, blood_pressure, sleep, workout, activity, nutrition, symptom); default all")
	fs.StringVar(&o.file, "file", "", "ingest a payload file in the service's JSON format ('-' for stdin)")
	fs.IntVar(&o.batchSize, "batch-size", 5000, "records per batch (one transaction each)")
	fs.StringVar(&o.context, "context", "bulk-import", "validation context: api, user-input, bulk-import, migration, testing")
	fs.StringVar(&o.skip, "skip-validation", "", "comma-separated contexts whose records skip Go validation (the database still checks them)")
	fs.BoolVar(&o.rowFKChecks, "row-fk-checks", false, "keep PostgreSQL's per-row foreign-key checks instead of one lock per user and batch")
	fs.StringVar(&o.target, "target", "", "where rows go: live or sandbox (hmperf_sandbox twins); default live for --file and on a database hmperf created, sandbox for generated rows on any other")
	fs.BoolVar(&o.createUsers, "create-users", false, "add the users the records name to the live users table (the service's: by default a record whose user does not exist is rejected as \"unknown user\"); the ids added are printed")
}

func runIngest(ctx context.Context, e env, o *ingestOpts, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("%w: ingest takes no arguments (got %q)", errUsage, args[0])
	}
	if err := o.check(); err != nil {
		return err
	}
	if o.conn.readOnly {
		return errors.New("ingest writes rows and --read-only is set")
	}
	in, cleanup, err := o.open(ctx, e)
	if err != nil {
		return err
	}
	defer cleanup()
	cmdout.UnknownChecks(e.stderr, in.UnknownChecks())
	progress := ingestProgress(e)
	if o.file != "" {
		err = o.ingestFile(ctx, in, progress)
	} else {
		err = o.ingestSample(ctx, in, progress)
	}
	totals := in.Totals()
	if progress != nil {
		fmt.Fprintln(e.stderr)
	}
	cmdout.Totals(e.stdout, totals, o.json)
	return ingest.ConnectionLost(err, "ingest "+o.source(), totals)
}

// source names the run's input, for messages.
func (o *ingestOpts) source() string {
	if o.file != "" {
		return "--file " + o.file
	}
	return fmt.Sprintf("--sample %d", o.sample)
}

// check asks for exactly one input; the values of --sample and the other
// counts are checked with every command's flags (checkFlags).
func (o *ingestOpts) check() error {
	if (o.sample > 0) == (o.file != "") {
		return fmt.Errorf("%w: give either --sample N or --file F", errUsage)
	}
	return nil
}

// open connects, applies migrations on an embedded server, and builds the
// ingester with the rules from the VALIDATION_* environment.
func (o *ingestOpts) open(ctx context.Context, e env) (*ingest.Ingester, func(), error) {
	vctx, err := engine.ParseContext(o.context)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	policy, err := engine.ParsePolicy(o.skip)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	cfg, err := engine.ConfigFromEnv(os.Getenv)
	if err != nil {
		return nil, nil, err
	}
	rules, err := engine.NewRules(cfg)
	if err != nil {
		return nil, nil, err
	}
	cache, err := engine.NewCache(10000, time.Hour, time.Now)
	if err != nil {
		return nil, nil, err
	}
	t, err := openSchema(ctx, o.conn, e.stderr)
	if err != nil {
		return nil, nil, err
	}
	pool, err := t.Pool(ctx, 2)
	if err != nil {
		t.Close()
		return nil, nil, err
	}
	in, err := o.openIngester(ctx, pool, ingest.Options{Context: vctx, Validator: engine.NewValidator(rules, policy, cache), Cache: cache,
		RowFKChecks: o.rowFKChecks, LockWait: t.LockPolicy(e.stderr), Generated: o.sample > 0})
	if err != nil {
		pool.Close()
		t.Close()
		return nil, nil, err
	}
	return in, func() { pool.Close(); t.Close() }, nil
}

// openIngester opens the ingester under the write policy: a payload import
// goes to the live tables (that is its purpose), generated rows where
// generatedTarget says.
func (o *ingestOpts) openIngester(ctx context.Context, pool *pgxpool.Pool, opts ingest.Options) (*ingest.Ingester, error) {
	flag := o.target
	if flag == "" && o.file != "" {
		flag = "live"
	}
	pick := func() (ingest.Target, error) { return generatedTarget(ctx, pool, flag) }
	return writepolicy.OpenIngester(ctx, pool, "hmperf ingest", pick, o.createUsers, opts)
}

func (o *ingestOpts) ingestSample(ctx context.Context, in *ingest.Ingester, progress ingest.Progress) error {
	cfg := engine.GenConfig{Seed: o.seed, DupRate: o.dupRate, InvalidRate: o.invalidRate}
	if o.types != "" {
		for _, name := range strings.Split(o.types, ",") {
			k, err := engine.ParseKind(strings.TrimSpace(name))
			if err != nil {
				return fmt.Errorf("%w: --types: %v", errUsage, err)
			}
			cfg.Types = append(cfg.Types, k)
		}
	}
	users, err := in.SampleUsers(ctx)
	if errors.Is(err, ingest.ErrNoUsers) {
		return fmt.Errorf("%v: a sample on the live tables only uses existing users; pass --create-users to add generated ones, or --target sandbox", err)
	}
	if err != nil {
		return err
	}
	cfg.UserIDs = users
	g, err := engine.NewGenerator(cfg)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return ingest.RunSample(ctx, in, g, o.sample, o.batchSize, progress)
}

func (o *ingestOpts) ingestFile(ctx context.Context, in *ingest.Ingester, progress ingest.Progress) error {
	var r io.Reader = os.Stdin
	if o.file != "-" {
		f, err := os.Open(o.file)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	if err := ingest.RunFile(ctx, in, r, o.batchSize, progress); err != nil {
		return fmt.Errorf("%s: %w", o.file, err)
	}
	return nil
}

// ingestProgress returns a progress callback that rewrites one stderr line,
// or nil when stderr is not a terminal (scripts get clean output).
func ingestProgress(e env) ingest.Progress {
	if !isTerminal(e.stderr) {
		return nil
	}
	return func(t ingest.Totals) {
		fmt.Fprintf(e.stderr, "\r%d received, %d inserted, %d duplicates, %d rejected, %.0f rows/s ",
			t.Received, t.Inserted, t.Duplicates, t.Rejected, t.RowsPerSecond())
	}
}
