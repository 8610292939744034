package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"hmperf/queries"
	"hmperf/queries/lockwait"
)

// Method is how a run writes its rows.
type Method string

// The write methods.
const (
	// MethodCopy is one binary COPY of the N rows per measurement.
	MethodCopy Method = "copy"
	// MethodService is the ingest service's own path: multi-row INSERT ...
	// ON CONFLICT DO NOTHING in chunks as large as the protocol's 65,535
	// parameters allow, one transaction per batch, committed.
	MethodService Method = "service"
	// MethodFunction calls the report's benchmark_* SQL functions, which
	// time each variant server-side and roll their inserts back.
	MethodFunction Method = "function"
	// MethodClaim marks a stored run of bench --claim read back: it wrote
	// no rows of the pairs, it measured one of the report's other claims.
	MethodClaim Method = "claim"
)

// ParseMethod checks a --method value.
func ParseMethod(s string) (Method, error) {
	switch m := Method(s); m {
	case MethodCopy, MethodService, MethodFunction:
		return m, nil
	}
	return "", fmt.Errorf("unknown benchmark method %q (want copy, service or function)", s)
}

// ScratchNote says where a benchmark's rows go, for prompts and help.
const ScratchNote = "Rows go to scratch copies in schema " + scratchPrefix + "N, built from the live catalogue " +
	"and dropped at the end; the service's tables, sequences and users are not touched"

// describe says in a few words how rows were written.
func (s Setup) describe() string {
	end, where := "rolled back", ""
	if s.Commit {
		end = "committed"
	}
	if s.Scratch {
		where = ", into scratch copies of the live tables"
	}
	switch s.Method {
	case MethodService:
		return "the service's chunked INSERT ... ON CONFLICT DO NOTHING, " + end + where
	case MethodFunction:
		return "the report's benchmark SQL functions (server clock, rolled back)" + where
	case MethodClaim:
		return "a claim run (bench --claim), not an insert benchmark"
	}
	return "binary COPY, " + end + where
}

// Describe is the method line the CLI and the report print.
func (s Setup) Describe() string { return s.describe() }

// Options configure a benchmark run.
type Options struct {
	Tables []string // pair names; empty means all three
	Rows   int      // N rows per write; default 5000 (the report's n)
	// Reps is K interleaved repetitions; 0 means automatic: repetitions
	// are added until every claim's interval is decided or narrower than
	// CIWidth, within MaxTime.
	Reps    int
	MaxTime time.Duration // automatic repetitions only; default 2 minutes
	CIWidth float64       // automatic repetitions only; default 5 (percentage points)
	Method  Method        // default MethodCopy
	// Commit measures committed writes (into the run's scratch copies,
	// as every write is); MethodService always commits.
	Commit bool
	Seed   uint64 // generator seed; the same seed gives the same rows
	// Anchor is the instant the generated rows count back from; zero means
	// the start of the run.
	Anchor time.Time
	// Progress, when set, is called from Run's goroutine before and after
	// every timed write.
	Progress func(Progress)
	// LockWait is how building the scratch copies retries a lock wait that
	// timed out (--lock-wait); the zero value is lockwait's default. Its
	// budget also bounds the wait for another benchmark to finish.
	LockWait lockwait.Policy
	// TurnWait bounds the wait for another benchmark to finish: 0 means
	// LockWait's budget, negative refuses at once, naming the other run.
	TurnWait time.Duration
	// Log, when set, receives one line per note: a wait for another
	// benchmark, runs and scratch schemas swept.
	Log io.Writer
}

// Progress reports where a run stands.
type Progress struct {
	Table   string  `json:"table"`
	Variant Variant `json:"variant"`
	Rep     int     `json:"rep"`  // 1-based repetition being run
	Reps    int     `json:"reps"` // K, or 0 while automatic
	Step    int     `json:"step"` // timed writes finished, over the whole run
	Steps   int     `json:"steps"`
	// RowsPerSec is the rate of the write that just finished; 0 while it runs.
	RowsPerSec float64 `json:"rows_per_sec"`
	// MedianSoFar is the median rate of this table and variant over the
	// repetitions finished so far.
	MedianSoFar float64 `json:"median_so_far"`
	Done        bool    `json:"done"` // the write has finished
	// Ratio is the pair's optimized/original interval over the complete
	// repetitions so far (unbounded before MinReps).
	Ratio Interval `json:"-"`
}

// Run statuses, as stored in benchmark_runs.status.
const (
	StatusRunning   = "running"
	StatusDone      = "done"
	StatusCancelled = "cancelled"
	StatusFailed    = "failed"
)

// warmupRows is the size of the untimed write each variant gets before its
// first repetition, so no variant pays for the first touch of its catalog
// entries, relcache and partitions inside a timed measurement.
const warmupRows = 100

// maxAutoReps caps automatic repetitions whatever the time left.
const maxAutoReps = 60

func (o *Options) defaults() error {
	if len(o.Tables) == 0 {
		o.Tables, _ = ParseTables("all")
	}
	if o.Rows == 0 {
		o.Rows = 5000
	}
	if o.MaxTime == 0 {
		o.MaxTime = 2 * time.Minute
	}
	if o.CIWidth == 0 {
		o.CIWidth = 5
	}
	if o.Method == "" {
		o.Method = MethodCopy
	}
	if o.Method == MethodService {
		o.Commit = true
	}
	if o.Method == MethodFunction && o.Commit {
		return errors.New("bench: --commit does not apply to --method function: the report's functions roll their own inserts back")
	}
	if o.Rows < 1 || o.Reps < 0 {
		return fmt.Errorf("bench: rows must be at least 1 and reps at least 0 (got %d rows, %d reps)", o.Rows, o.Reps)
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
// stops it after the current write is abandoned and rolled back; the run is
// then stored with status "cancelled" and Run returns it with ctx's error.
// Any other failure is stored as "failed" with its message. Scratch copies
// are dropped however the run ends.
func Run(ctx context.Context, db queries.DBTX, opt Options) (*Result, error) {
	if err := opt.defaults(); err != nil {
		return nil, err
	}
	server, err := queries.Server(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("bench: read server facts: %w", err)
	}
	id, release, err := ownRun(ctx, db, &turn{Budget: waitBudget(opt), Log: opt.Log})
	if err != nil {
		return nil, err
	}
	defer release()
	res := &Result{ID: id, Tables: opt.Tables, Rows: opt.Rows, Reps: opt.Reps, Seed: opt.Seed, Server: server, Status: StatusRunning,
		Setup: Setup{Method: opt.Method, Commit: opt.Commit, Scratch: true}, Auto: opt.Reps == 0}
	if res.SizesBefore, err = tableSizes(ctx, db, opt.Tables); err != nil {
		return nil, err
	}
	if err := insertRun(ctx, db, res); err != nil {
		return nil, err
	}
	runErr := runWithScratch(ctx, db, opt, res)
	finishRun(db, res, runErr, ctx.Err())
	if runErr != nil {
		return res, runErr
	}
	return res, nil
}

// runWithScratch runs the pairs against scratch copies of their tables,
// built from the live catalogue in a schema of the run's own and dropped
// however the run ends: no method, the original variant included, writes,
// vacuums or analyzes a live table, moves its sequences or adds to users.
func runWithScratch(ctx context.Context, db queries.DBTX, opt Options, res *Result) error {
	var tables []string
	for _, name := range opt.Tables {
		p, _ := PairNamed(name)
		for _, v := range Variants {
			tables = append(tables, p.Tables[v])
		}
	}
	schema := scratchSchema(res.ID)
	return inScratch(ctx, db, opt.LockWait, opt.Log, schema, tables, func() error { return runPairs(ctx, db, opt, res, schema) })
}

// waitBudget is how long a run waits for another benchmark to finish:
// TurnWait, else the lock-wait budget (zero: lockwait's default; negative:
// not at all).
func waitBudget(opt Options) time.Duration {
	switch {
	case opt.TurnWait != 0:
		return opt.TurnWait
	case opt.LockWait.Budget == 0:
		return lockwait.DefaultBudget
	}
	return opt.LockWait.Budget
}

// plan is when to stop adding repetitions.
type plan struct {
	fixed    int       // K, or 0 for automatic
	deadline time.Time // automatic only
	width    float64
}

// more reports whether repetition r (1-based) should run, given the pair's
// summary so far.
func (p plan) more(r int, c []Comparison) bool {
	if p.fixed > 0 {
		return r <= p.fixed
	}
	if r > maxAutoReps || (r > 1 && time.Now().After(p.deadline)) {
		return false
	}
	return r <= MinReps || !decided(c, p.width)
}

func runPairs(ctx context.Context, db queries.DBTX, opt Options, res *Result, schema string) error {
	steps := len(opt.Tables) * opt.Reps * len(Variants)
	step := 0
	end := time.Now().Add(opt.MaxTime)
	for i, name := range opt.Tables {
		pair, _ := PairNamed(name)
		// Each pair gets an equal share of the time still left.
		pl := plan{fixed: opt.Reps, width: opt.CIWidth,
			deadline: time.Now().Add(time.Until(end) / time.Duration(len(opt.Tables)-i))}
		w, err := newWriter(ctx, db, opt, pair, schema)
		if err != nil {
			return err
		}
		for r := 1; pl.more(r, summaryOf(res, name)); r++ {
			var batch []Measurement
			for _, v := range Variants {
				report(opt.Progress, Progress{Table: name, Variant: v, Rep: r, Reps: opt.Reps, Step: step, Steps: steps})
				if v == Variants[0] || !w.together() {
					ms, err := w.measure(ctx, v)
					if err != nil {
						return err
					}
					batch = append(batch, ms...)
				}
				step++
			}
			for i := range batch {
				batch[i].Rep = r
			}
			// A repetition is stored whole, in one statement, so the
			// monitor feed trigger sees all three variants of it together.
			if err := insertResults(ctx, db, res.ID, batch); err != nil {
				return err
			}
			res.Measurements = append(res.Measurements, batch...)
			res.Reps = max(res.Reps, r)
			for _, m := range batch {
				report(opt.Progress, Progress{Table: name, Variant: m.Variant, Rep: r, Reps: opt.Reps, Step: step, Steps: steps,
					Done: true, RowsPerSec: m.RowsPerSec, MedianSoFar: medianSoFar(res.Measurements, name, m.Variant),
					Ratio: ratioSoFar(res.Measurements, name)})
			}
			if err := w.between(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// summaryOf is the comparison of one pair over the measurements so far.
func summaryOf(res *Result, pair string) []Comparison {
	var ms []Measurement
	for _, m := range res.Measurements {
		if m.Table == pair {
			ms = append(ms, m)
		}
	}
	_, cs := Summarize(ms, res.Setup)
	return cs
}

func ratioSoFar(ms []Measurement, pair string) Interval {
	var ratios []float64
	for _, r := range completeReps(ms, pair) {
		ratios = append(ratios, r[Optimized].RowsPerSec/r[Original].RowsPerSec)
	}
	return MedianInterval(ratios)
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

// finishRun records how the run ended. It uses its own context: the run's
// may be cancelled, and a cancelled run must still be marked so.
func finishRun(db queries.DBTX, res *Result, runErr, ctxErr error) {
	switch {
	case runErr == nil:
		res.Status = StatusDone
	case ctxErr != nil || errors.Is(runErr, context.Canceled):
		res.Status, res.Error = StatusCancelled, "cancelled: "+runErr.Error()
	default:
		res.Status, res.Error = StatusFailed, runErr.Error()
	}
	res.Results, res.Comparisons = Summarize(res.Measurements, res.Setup)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := updateRun(ctx, db, res); err != nil && runErr == nil {
		res.Status, res.Error = StatusFailed, err.Error()
	}
}
