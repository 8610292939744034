// Package ingestcmd is what `hmperf ingest` does once its command line is
// parsed: build the validation engine from the flags and the VALIDATION_*
// environment, open the ingester under the write policy, and feed it
// generated samples or a payload file.
package ingestcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"hmperf/cmd/internal/cmdout"
	"hmperf/cmd/internal/dbtarget"
	"hmperf/cmd/internal/exitcode"
	"hmperf/engine"
	"hmperf/queries"
	"hmperf/queries/ingest"
	"hmperf/queries/writepolicy"
)

// Options are ingest's flags; JSON is the global --json.
type Options struct {
	Sample      int
	Seed        uint64
	DupRate     float64
	InvalidRate float64
	Types       string
	File        string
	BatchSize   int
	Context     string
	Skip        string
	RowFKChecks bool
	Target      string
	CreateUsers bool
	JSON        bool
}

// IO is where ingest writes: the totals on Out, messages on Err, and a
// progress line on Err when Terminal.
type IO struct {
	Out, Err io.Writer
	Terminal bool
}

// Run ingests o's input into the database openDB opens, printing the
// totals on e.Out (and progress on a terminal's e.Err).
func Run(ctx context.Context, o Options, e IO, openDB func(context.Context) (*dbtarget.Target, error)) error {
	in, cleanup, err := o.open(ctx, e, openDB)
	if err != nil {
		return err
	}
	defer cleanup()
	cmdout.UnknownChecks(e.Err, in.UnknownChecks())
	prog := progress(e)
	if o.File != "" {
		err = o.ingestFile(ctx, in, prog)
	} else {
		err = o.ingestSample(ctx, in, prog)
	}
	totals := in.Totals()
	if prog != nil {
		fmt.Fprintln(e.Err)
	}
	cmdout.Totals(e.Out, totals, o.JSON)
	return ingest.ConnectionLost(err, "ingest "+o.source(), totals)
}

// source names the run's input, for messages.
func (o Options) source() string {
	if o.File != "" {
		return "--file " + o.File
	}
	return fmt.Sprintf("--sample %d", o.Sample)
}

// Check asks for exactly one input; the values of --sample and the other
// counts are checked with every command's flags, before Run.
func (o Options) Check() error {
	if (o.Sample > 0) == (o.File != "") {
		return fmt.Errorf("%w: give either --sample N or --file F", exitcode.ErrUsage)
	}
	return nil
}

// open connects, applies migrations on an embedded server, and builds the
// ingester with the rules from the VALIDATION_* environment.
func (o Options) open(ctx context.Context, e IO, openDB func(context.Context) (*dbtarget.Target, error)) (*ingest.Ingester, func(), error) {
	vctx, err := engine.ParseContext(o.Context)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", exitcode.ErrUsage, err)
	}
	policy, err := engine.ParsePolicy(o.Skip)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", exitcode.ErrUsage, err)
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
	t, err := openDB(ctx)
	if err != nil {
		return nil, nil, err
	}
	pool, err := t.Pool(ctx, 2)
	if err != nil {
		t.Close()
		return nil, nil, err
	}
	in, err := o.openIngester(ctx, pool, ingest.Options{Context: vctx, Validator: engine.NewValidator(rules, policy, cache), Cache: cache,
		RowFKChecks: o.RowFKChecks, LockWait: t.LockPolicy(e.Err), Generated: o.Sample > 0})
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
func (o Options) openIngester(ctx context.Context, pool *pgxpool.Pool, opts ingest.Options) (*ingest.Ingester, error) {
	flag := o.Target
	if flag == "" && o.File != "" {
		flag = "live"
	}
	pick := func() (ingest.Target, error) { return generatedTarget(ctx, pool, flag) }
	return writepolicy.OpenIngester(ctx, pool, "hmperf ingest", pick, o.CreateUsers, opts)
}

func (o Options) ingestSample(ctx context.Context, in *ingest.Ingester, progress ingest.Progress) error {
	cfg := engine.GenConfig{Seed: o.Seed, DupRate: o.DupRate, InvalidRate: o.InvalidRate}
	if o.Types != "" {
		for _, name := range strings.Split(o.Types, ",") {
			k, err := engine.ParseKind(strings.TrimSpace(name))
			if err != nil {
				return fmt.Errorf("%w: --types: %v", exitcode.ErrUsage, err)
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
		return fmt.Errorf("%w: %v", exitcode.ErrUsage, err)
	}
	return ingest.RunSample(ctx, in, g, o.Sample, o.BatchSize, progress)
}

func (o Options) ingestFile(ctx context.Context, in *ingest.Ingester, progress ingest.Progress) error {
	var r io.Reader = os.Stdin
	if o.File != "-" {
		f, err := os.Open(o.File)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	if err := ingest.RunFile(ctx, in, r, o.BatchSize, progress); err != nil {
		return fmt.Errorf("%s: %w", o.File, err)
	}
	return nil
}

// progress returns a progress callback that rewrites one line of e.Err,
// or nil when that is not a terminal (scripts get clean output).
func progress(e IO) ingest.Progress {
	if !e.Terminal {
		return nil
	}
	return func(t ingest.Totals) {
		fmt.Fprintf(e.Err, "\r%d received, %d inserted, %d duplicates, %d rejected, %.0f rows/s ",
			t.Received, t.Inserted, t.Duplicates, t.Rejected, t.RowsPerSecond())
	}
}

// generatedTarget decides where generated rows go: --target wins, else
// writepolicy.Generated.
func generatedTarget(ctx context.Context, db queries.DBTX, flag string) (ingest.Target, error) {
	if flag != "" {
		t, err := ingest.ParseTarget(flag)
		if err != nil {
			return 0, fmt.Errorf("%w: --target: %v", exitcode.ErrUsage, err)
		}
		return t, nil
	}
	return writepolicy.Generated(ctx, db)
}
