package bench

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/queries"
	"hmperf/queries/lockwait"
)

// The report's claims that are not about the three insert pairs, each
// measured by `hmperf bench --claim NAME`.
const (
	ClaimIndexStrategy   = "index-strategy"
	ClaimDedupMemory     = "dedup-memory"
	ClaimValidationCache = "validation-cache"
)

// ClaimNames lists the --claim values.
var ClaimNames = []string{ClaimIndexStrategy, ClaimDedupMemory, ClaimValidationCache}

// ParseClaim checks a --claim value.
func ParseClaim(s string) (string, error) {
	if slices.Contains(ClaimNames, s) {
		return s, nil
	}
	return "", fmt.Errorf("unknown claim %q (want index-strategy, dedup-memory or validation-cache)", s)
}

// Figure is one measured quantity of a claim run: its median over the
// repetitions with the 95% interval of that median.
type Figure struct {
	Subject string   `json:"subject"` // e.g. "immediate", "tracker"
	Name    string   `json:"name"`    // e.g. "create_seconds"
	Unit    string   `json:"unit"`
	Median  float64  `json:"median"`
	Low     *float64 `json:"ci_low"`
	High    *float64 `json:"ci_high"`
	Reps    int      `json:"reps"`
	// Note says why a figure has fewer repetitions than the run, or
	// none (then Reps is 0 and Median means nothing).
	Note string `json:"note,omitempty"`
}

// ClaimVerdict is a verdict on one of the report's figures with what it is
// about and the report's wording of it.
type ClaimVerdict struct {
	Subject string `json:"subject"`
	Wording string `json:"wording"`
	Verdict
}

// ClaimRun is one run of `hmperf bench --claim NAME`.
type ClaimRun struct {
	ID     int64              `json:"run_id"`
	Claim  string             `json:"claim"`
	Reps   int                `json:"reps"`
	Auto   bool               `json:"auto_reps"`
	Params map[string]string  `json:"params"`
	Server queries.ServerInfo `json:"server"`
	// Method says what was measured and how, in one paragraph.
	Method   string         `json:"method"`
	Figures  []Figure       `json:"figures"`
	Verdicts []ClaimVerdict `json:"verdicts"`
	Notes    []string       `json:"notes,omitempty"`
}

// figure summarises per-repetition values of one quantity.
func figure(subject, name, unit string, xs []float64) Figure {
	iv := MedianInterval(xs)
	f := Figure{Subject: subject, Name: name, Unit: unit, Median: iv.Median, Reps: iv.Reps}
	f.Low, f.High = bounds(iv)
	return f
}

// AboutTolerance is how far from a bare figure of the report ("45.2 s")
// a measurement may lie and still count as that figure: a claim stated as
// one number is judged as that number ±10%.
const AboutTolerance = 0.10

// JudgeAbout decides a claim stated as one figure: it holds when the whole
// interval lies within ±AboutTolerance of claimed, does not hold when the
// whole interval lies outside that band, and is inconclusive otherwise.
func JudgeAbout(iv Interval, claimed float64) Outcome {
	if !iv.Bounded {
		return Inconclusive
	}
	lo, hi := claimed*(1-AboutTolerance), claimed*(1+AboutTolerance)
	if lo > hi {
		lo, hi = hi, lo
	}
	switch {
	case iv.Low >= lo && iv.High <= hi:
		return Holds
	case iv.High < lo || iv.Low > hi:
		return DoesNotHold
	}
	return Inconclusive
}

// claimVerdict judges xs against claimed: with dir, or as a bare figure
// (JudgeAbout) when about is set.
func claimVerdict(subject, claim, wording string, claimed float64, unit string, xs []float64, dir Direction, about bool) ClaimVerdict {
	iv := MedianInterval(xs)
	v := judged(claim, claimed, unit, iv, dir)
	if about {
		v.Verdict, v.Why = JudgeAbout(iv, claimed), ""
		if v.Verdict == Inconclusive {
			v.Why = fmt.Sprintf("the interval %s to %s is neither within nor wholly outside %s ±%d%%", num(iv.Low), num(iv.High), num(claimed), int(AboutTolerance*100))
			if !iv.Bounded {
				v.Why = fmt.Sprintf("%d repetitions: a 95%% interval needs at least %d", iv.Reps, MinReps)
			}
		}
	}
	return ClaimVerdict{Subject: subject, Wording: wording, Verdict: v}
}

// claimsDecided reports whether every verdict is decided or its interval
// narrower than width percent of its median.
func claimsDecided(vs []ClaimVerdict, width float64) bool {
	for _, v := range vs {
		if v.Verdict.Verdict != Inconclusive {
			continue
		}
		if v.CILow == nil || v.Measured == 0 {
			return false
		}
		if (*v.CIHigh-*v.CILow)/abs(v.Measured)*100 > width {
			return false
		}
	}
	return true
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// claimSetting marks a stored run as a claim run and names the claim;
// paramPrefix starts the keys of its parameters.
const (
	claimSetting = "hmperf.claim"
	paramPrefix  = "hmperf.param."
)

// ownClaimRun reserves a run id for a claim run, waiting its turn behind
// any other benchmark as Run does, so no two measurements share the
// machine.
func ownClaimRun(ctx context.Context, db queries.DBTX, opt ClaimOptions) (int64, func(), error) {
	return ownRun(ctx, db, &turn{Budget: waitBudget(Options{LockWait: opt.LockWait, TurnWait: opt.TurnWait}), Log: opt.Log})
}

// storeClaimRun stores a finished claim run and its verdicts: the run in
// hmperf.benchmark_runs (tables holds the claim's name, settings mark it as
// a claim run), the verdicts in hmperf.benchmark_verdicts under their
// subject. Its figures are not stored: benchmark_results holds insert
// measurements only.
func storeClaimRun(ctx context.Context, db queries.DBTX, r *ClaimRun, started time.Time) error {
	settings := maps.Clone(r.Server.Settings)
	if settings == nil {
		settings = map[string]string{}
	}
	settings[claimSetting] = r.Claim
	settings[autoSetting] = strconv.FormatBool(r.Auto)
	for k, v := range r.Params {
		settings[paramPrefix+k] = v
	}
	err := db.QueryRow(ctx, `
		INSERT INTO hmperf.benchmark_runs (id, started_at, finished_at, tables, rows, reps, server_version, settings, status)
		OVERRIDING SYSTEM VALUE
		VALUES ($1, $2, clock_timestamp(), $3, 0, $4, $5, $6, $7) RETURNING id`,
		r.ID, started, []string{r.Claim}, r.Reps, r.Server.Version, settings, StatusDone).Scan(&r.ID)
	if err != nil {
		return fmt.Errorf("bench: store the %s run: %w", r.Claim, err)
	}
	var subjects, claims, units, verdicts, whys, methods []string
	var claimed, measured []float64
	var lows, highs []*float64
	var reps []int
	for _, v := range r.Verdicts {
		subjects, claims, units = append(subjects, r.Claim+": "+v.Subject), append(claims, v.Claim), append(units, v.Unit)
		verdicts, whys, methods = append(verdicts, string(v.Verdict.Verdict)), append(whys, v.Why), append(methods, v.Method)
		claimed, measured = append(claimed, v.Claimed), append(measured, v.Measured)
		lows, highs, reps = append(lows, v.CILow), append(highs, v.CIHigh), append(reps, v.Reps)
	}
	_, err = db.Exec(ctx, `
		INSERT INTO hmperf.benchmark_verdicts (run_id, table_name, claim, claimed, unit, measured, ci_low, ci_high, method, reps, verdict, why)
		SELECT $1, t, c, cl, u, m, lo, hi, me, n, v, nullif(w, '')
		  FROM unnest($2::text[], $3::text[], $4::float8[], $5::text[], $6::float8[], $7::float8[], $8::float8[],
		              $9::text[], $10::int[], $11::text[], $12::text[]) AS x(t, c, cl, u, m, lo, hi, me, n, v, w)`,
		r.ID, subjects, claims, claimed, units, measured, lows, highs, methods, reps, verdicts, whys)
	if err != nil {
		return fmt.Errorf("bench: store the verdicts of the %s run %d: %w", r.Claim, r.ID, err)
	}
	return nil
}

// StoredClaimVerdict is a verdict of a stored claim run, as the dashboard
// lists it.
type StoredClaimVerdict struct {
	RunID int64
	Claim string // index-strategy, dedup-memory, validation-cache
	ClaimVerdict
}

// LatestClaimVerdicts reads the verdicts of the latest finished run of each
// claim, in the order of ClaimNames. A database without hmperf's tables
// has none.
func LatestClaimVerdicts(ctx context.Context, db queries.DBTX) ([]StoredClaimVerdict, error) {
	rows, err := db.Query(ctx, `
		WITH latest AS (
		    SELECT DISTINCT ON (settings->>'hmperf.claim') id, settings->>'hmperf.claim' AS claim
		      FROM hmperf.benchmark_runs
		     WHERE settings ? 'hmperf.claim' AND status = 'done'
		     ORDER BY settings->>'hmperf.claim', started_at DESC, id DESC)
		SELECT l.id, l.claim, v.table_name, v.claim, v.claimed, v.unit, v.measured, v.ci_low, v.ci_high,
		       v.method, v.reps, v.verdict, coalesce(v.why, '')
		  FROM latest l JOIN hmperf.benchmark_verdicts v ON v.run_id = l.id
		 ORDER BY array_position($1::text[], l.claim), v.id`, ClaimNames)
	if err != nil {
		return nil, fmt.Errorf("bench: latest claim verdicts: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (StoredClaimVerdict, error) {
		var s StoredClaimVerdict
		var subject, verdict string
		err := row.Scan(&s.RunID, &s.Claim, &subject, &s.Verdict.Claim, &s.Claimed, &s.Unit, &s.Measured, &s.CILow, &s.CIHigh,
			&s.Method, &s.Reps, &verdict, &s.Why)
		s.Subject = subject[min(len(subject), len(s.Claim)+2):]
		s.Verdict.Verdict = Outcome(verdict)
		s.Wording = ClaimRunWording(s.Verdict.Claim, s.Subject)
		return s, err
	})
	if err != nil {
		return nil, fmt.Errorf("bench: latest claim verdicts: %w", err)
	}
	return out, nil
}

// ClaimOptions configure a claim run.
type ClaimOptions struct {
	// Reps is K interleaved repetitions; 0 means automatic, as for Run.
	Reps    int
	MaxTime time.Duration // automatic repetitions only; default 2 minutes
	CIWidth float64       // automatic repetitions only; default 5 (percent of the median)
	// Index strategies: the metric table (a pair name) and the size each
	// strategy loads its partition to.
	Table          string
	PartitionBytes int64
	Seed           uint64
	// Dedup memory: how many keys each layout holds.
	Keys int
	// Validation cache: the share of each upload re-sent from the previous
	// one, and how many uploads of engine.DefaultUploadSize are replayed.
	ResendShare float64
	Uploads     int
	// LockWait, TurnWait and Log are as in Options.
	LockWait lockwait.Policy
	TurnWait time.Duration
	Log      io.Writer
	// Progress, when set, is told each finished repetition.
	Progress func(claim string, rep int)
}

// plan is when a claim run stops adding repetitions, as for insert runs.
func (o ClaimOptions) plan() plan {
	return plan{fixed: o.Reps, width: o.CIWidth, deadline: time.Now().Add(o.MaxTime)}
}

// moreClaims is plan.more for claim verdicts.
func (p plan) moreClaims(r int, vs []ClaimVerdict) bool {
	if p.fixed > 0 {
		return r <= p.fixed
	}
	if r > maxAutoReps || (r > 1 && time.Now().After(p.deadline)) {
		return false
	}
	return r <= MinReps || !claimsDecided(vs, p.width)
}

func (o *ClaimOptions) defaults() {
	if o.MaxTime == 0 {
		o.MaxTime = 2 * time.Minute
	}
	if o.CIWidth == 0 {
		o.CIWidth = 5
	}
	if o.Table == "" {
		o.Table = "nutrition"
	}
	if o.PartitionBytes == 0 {
		o.PartitionBytes = 100 << 20
	}
	if o.Keys == 0 {
		o.Keys = 100_000
	}
	if o.Uploads == 0 {
		o.Uploads = 200
	}
}

// RunClaim measures one claim, judges the report's figures and stores the
// run with its verdicts.
func RunClaim(ctx context.Context, db queries.DBTX, claim string, opt ClaimOptions) (*ClaimRun, error) {
	if _, err := ParseClaim(claim); err != nil {
		return nil, err
	}
	opt.defaults()
	server, err := queries.Server(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("bench: read server facts: %w", err)
	}
	id, release, err := ownClaimRun(ctx, db, opt)
	if err != nil {
		return nil, err
	}
	defer release()
	started := time.Now()
	run := &ClaimRun{ID: id, Claim: claim, Server: server, Auto: opt.Reps == 0, Params: map[string]string{}}
	switch claim {
	case ClaimDedupMemory:
		err = measureDedupMemory(ctx, opt, run)
	case ClaimValidationCache:
		err = measureValidationCache(ctx, opt, run)
	default:
		err = measureIndexStrategies(ctx, db, opt, run)
	}
	if err != nil {
		return nil, err
	}
	if err := storeClaimRun(ctx, db, run, started); err != nil {
		return nil, err
	}
	return run, nil
}
