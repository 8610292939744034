package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"hmperf/cmd/internal/benchout"
	"hmperf/engine"
	"hmperf/queries"
	"hmperf/queries/bench"
)

// claimFlags are the flags of `hmperf bench --claim`.
type claimFlags struct {
	name          string
	partitionSize string
	resendShare   float64
	keys          int
	uploads       int
}

func (c *claimFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&c.name, "claim", "", "measure one of the report's other claims instead of the insert pairs: index-strategy, dedup-memory or validation-cache")
	fs.StringVar(&c.partitionSize, "partition-size", "100MB", "--claim index-strategy: the heap size each strategy's partition is loaded to (kB, MB or GB)")
	fs.Float64Var(&c.resendShare, "resend-share", 0.5, "--claim validation-cache: the share of each upload re-sent from the previous one, as the iOS app re-sends overlapping windows")
	fs.IntVar(&c.keys, "keys", 100_000, "--claim dedup-memory: how many distinct keys each dedup layout holds")
	fs.IntVar(&c.uploads, "uploads", 200, "--claim validation-cache: how many uploads of "+benchout.Thousands(engine.DefaultUploadSize)+" records are replayed per repetition")
}

// parseSize reads --partition-size: a positive whole number of kB, MB or GB
// (powers of 1024), or of bytes without a unit.
func parseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"GB", 1 << 30}, {"MB", 1 << 20}, {"kB", 1 << 10}, {"KB", 1 << 10}, {"B", 1}, {"", 1}}
	for _, u := range units {
		num, ok := strings.CutSuffix(strings.TrimSpace(s), u.suffix)
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
		if err != nil || n < 1 || n > (1<<62)/u.mult {
			break
		}
		return n * u.mult, nil
	}
	return 0, badFlag("bench", "partition-size", "a positive size such as 100MB, 512kB or 1GB", s)
}

// claimOptions checks the claim flags and turns them into bench options.
func (o benchOpts) claimOptions(reps int) (bench.ClaimOptions, error) {
	if _, err := bench.ParseClaim(o.claim.name); err != nil {
		return bench.ClaimOptions{}, fmt.Errorf("%w: %v", errUsage, err)
	}
	size, err := parseSize(o.claim.partitionSize)
	if err != nil {
		return bench.ClaimOptions{}, err
	}
	table := o.table
	if table == "all" {
		table = "nutrition"
	}
	if _, err := bench.PairNamed(table); err != nil {
		return bench.ClaimOptions{}, fmt.Errorf("%w: %v", errUsage, err)
	}
	return bench.ClaimOptions{Reps: reps, MaxTime: o.maxTime, CIWidth: o.ciWidth, Table: table, PartitionBytes: size, Seed: o.seed,
		Keys: o.claim.keys, ResendShare: o.claim.resendShare, Uploads: o.claim.uploads}, nil
}

// benchClaim runs one claim run and prints it.
func benchClaim(ctx context.Context, e env, o benchOpts, pool queries.DBTX, opts bench.ClaimOptions) error {
	if isTerminal(e.stderr) {
		opts.Progress = func(claim string, rep int) { fmt.Fprintf(e.stderr, "\r\033[K%s: repetition %d done", claim, rep) }
	}
	run, err := bench.RunClaim(ctx, pool, o.claim.name, opts)
	if opts.Progress != nil {
		fmt.Fprint(e.stderr, "\r\033[K")
	}
	if err != nil {
		return err
	}
	if o.report != "" {
		if err := benchout.WriteClaimReport(o.report, run, reproduce(o.set)); err != nil {
			return err
		}
	}
	if o.json {
		return benchout.ClaimJSON(e.stdout, run)
	}
	benchout.ClaimText(e.stdout, run)
	return nil
}
