package bench

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/queries"
)

// DB is what a benchmark needs: queries plus transactions. A *pgxpool.Pool
// and a *pgx.Conn satisfy it.
type DB interface {
	queries.DBTX
	Begin(ctx context.Context) (pgx.Tx, error)
}

// Options configure a benchmark run.
type Options struct {
	Tables []string // pair names; empty means all three
	Rows   int      // N rows per COPY; default 5000 (the report's n)
	Reps   int      // K interleaved repetitions; default 5
	Seed   uint64   // generator seed; the same seed gives the same rows
	// Anchor is the instant the generated rows count back from; zero means
	// the start of the run.
	Anchor time.Time
	// Progress, when set, is called from Run's goroutine before and after
	// every timed COPY.
	Progress func(Progress)
}

// Progress reports where a run stands.
type Progress struct {
	Table   string  `json:"table"`
	Variant Variant `json:"variant"`
	Rep     int     `json:"rep"`  // 1-based repetition being run
	Reps    int     `json:"reps"` // K
	Step    int     `json:"step"` // timed COPYs finished, over the whole run
	Steps   int     `json:"steps"`
	// RowsPerSec is the rate of the COPY that just finished; 0 while it runs.
	RowsPerSec float64 `json:"rows_per_sec"`
	// MedianSoFar is the median rate of this table and variant over the
	// repetitions finished so far.
	MedianSoFar float64 `json:"median_so_far"`
	Done        bool    `json:"done"` // the COPY has finished
}

// Run statuses, as stored in benchmark_runs.status.
const (
	StatusRunning   = "running"
	StatusDone      = "done"
	StatusCancelled = "cancelled"
	StatusFailed    = "failed"
)

// warmupRows is the size of the untimed COPY each variant gets before its
// first repetition, so no variant pays for the first touch of its catalog
// entries, relcache and partitions inside a timed measurement.
const warmupRows = 100

func (o *Options) defaults() error {
	if len(o.Tables) == 0 {
		o.Tables, _ = ParseTables("all")
	}
	if o.Rows == 0 {
		o.Rows = 5000
	}
	if o.Reps == 0 {
		o.Reps = 5
	}
	if o.Rows < 1 || o.Reps < 1 {
		return fmt.Errorf("bench: rows and reps must be at least 1 (got %d rows, %d reps)", o.Rows, o.Reps)
	}
	if o.Anchor.IsZero() {
		o.Anchor = time.Now()
	}
	for _, t := range o.Tables {
		if _, err := PairNamed(t); err != nil {
			return err
		}
	}
	return nil
}

// Run benchmarks the pairs in opt.Tables and stores the run. Cancelling ctx
// stops it after the current COPY is abandoned and rolled back; the run is
// then stored with status "cancelled" and Run returns it with ctx's error.
// Any other failure is stored as "failed" with its message.
func Run(ctx context.Context, db DB, opt Options) (*Result, error) {
	if err := opt.defaults(); err != nil {
		return nil, err
	}
	server, err := queries.Server(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("bench: read server facts: %w", err)
	}
	id, release, err := ownRun(ctx, db)
	if err != nil {
		return nil, err
	}
	defer release()
	res := &Result{ID: id, Tables: opt.Tables, Rows: opt.Rows, Reps: opt.Reps, Seed: opt.Seed, Server: server, Status: StatusRunning}
	if err := insertRun(ctx, db, res); err != nil {
		return nil, err
	}
	runErr := runPairs(ctx, db, opt, res)
	finishRun(db, res, runErr, ctx.Err())
	if runErr != nil {
		return res, runErr
	}
	return res, nil
}

func runPairs(ctx context.Context, db DB, opt Options, res *Result) error {
	steps := len(opt.Tables) * opt.Reps * len(Variants)
	step := 0
	users, err := readUsers(ctx, db)
	if err != nil {
		return err
	}
	for _, name := range opt.Tables {
		pair, _ := PairNamed(name)
		gen, err := Generate(name, opt.Rows, opt.Seed, opt.Anchor)
		if err != nil {
			return err
		}
		ds, err := prepare(ctx, db, pair, gen, users)
		if err != nil {
			return err
		}
		if err := warmup(ctx, db, pair, ds); err != nil {
			return err
		}
		for r := 1; r <= opt.Reps; r++ {
			var batch []Measurement
			for _, v := range Variants {
				p := Progress{Table: name, Variant: v, Rep: r, Reps: opt.Reps, Step: step, Steps: steps}
				report(opt.Progress, p)
				m, err := measure(ctx, db, pair, v, ds)
				if err != nil {
					return err
				}
				m.Rep = r
				batch = append(batch, m)
				step++
				p.Step, p.Done, p.RowsPerSec = step, true, m.RowsPerSec
				p.MedianSoFar = medianSoFar(append(res.Measurements, batch...), name, v)
				report(opt.Progress, p)
			}
			// A repetition is stored whole, in one statement, so the
			// monitor feed trigger sees all three variants of it together.
			if err := insertResults(ctx, db, res.ID, batch); err != nil {
				return err
			}
			res.Measurements = append(res.Measurements, batch...)
		}
	}
	return nil
}

func report(fn func(Progress), p Progress) {
	if fn != nil {
		fn(p)
	}
}

func medianSoFar(ms []Measurement, table string, v Variant) float64 {
	var xs []float64
	for _, m := range ms {
		if m.Table == table && m.Variant == v {
			xs = append(xs, m.RowsPerSec)
		}
	}
	if len(xs) == 0 {
		return 0
	}
	return Median(xs)
}

func warmup(ctx context.Context, db DB, pair Pair, ds variantData) error {
	small := ds.head(warmupRows)
	for _, v := range Variants {
		if _, err := measure(ctx, db, pair, v, small); err != nil {
			return err
		}
	}
	return nil
}

// measure times one COPY of ds into the variant's table, inside a
// transaction that is always rolled back.
func measure(ctx context.Context, db DB, pair Pair, v Variant, ds variantData) (Measurement, error) {
	table, rows := ds.tables[v], ds.rows[v]
	tx, err := db.Begin(ctx)
	if err != nil {
		return Measurement{}, fmt.Errorf("bench: begin: %w", err)
	}
	// Rolled back with a fresh context: a cancelled ctx must still leave
	// nothing behind.
	defer queries.Rollback(tx)
	if err := ds.users.Insert(ctx, tx, ds.owners); err != nil {
		return Measurement{}, fmt.Errorf("bench: create row owners: %w", err)
	}
	start := time.Now()
	n, err := tx.CopyFrom(ctx, table.m.Table.Ident(), table.m.Columns, pgx.CopyFromRows(rows))
	secs := time.Since(start).Seconds()
	if err != nil {
		return Measurement{}, fmt.Errorf("bench: COPY into %s: %w", table.m.Table, err)
	}
	if int(n) != len(rows) {
		return Measurement{}, fmt.Errorf("bench: COPY into %s wrote %d of %d rows", table.m.Table, n, len(rows))
	}
	return Measurement{Table: pair.Name, Variant: v, Rows: len(rows), Seconds: secs, RowsPerSec: float64(len(rows)) / secs}, nil
}

// finishRun records how the run ended. It uses its own context: the run's
// may be cancelled, and a cancelled run must still be marked so.
func finishRun(db DB, res *Result, runErr, ctxErr error) {
	switch {
	case runErr == nil:
		res.Status = StatusDone
	case ctxErr != nil || errors.Is(runErr, context.Canceled):
		res.Status, res.Error = StatusCancelled, "cancelled: "+runErr.Error()
	default:
		res.Status, res.Error = StatusFailed, runErr.Error()
	}
	res.Results, res.Comparisons = Summarize(res.Measurements)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := updateRun(ctx, db, res); err != nil && runErr == nil {
		res.Status, res.Error = StatusFailed, err.Error()
	}
}
