package bench

import (
	"context"
	"fmt"
	"strconv"
	"time"
	"unsafe"

	"hmperf/engine"
)

// dedupMemoryMethod says what the dedup-memory claim run measures.
const dedupMemoryMethod = "heap bytes per tracked key (runtime.MemStats HeapAlloc after a full collection, before and after building the layout) " +
	"of hmperf's dedup tracker, the legacy service's typed sets and the report's string sets rebuilt in Go, " +
	"each holding the same distinct heart-rate keys; layouts interleaved, their order rotated each repetition"

// measureDedupMemory fills run with the bytes per key of every layout and
// the verdicts on the report's "96 B -> 24 B".
func measureDedupMemory(ctx context.Context, opt ClaimOptions, run *ClaimRun) error {
	keys := engine.DedupSampleKeys(opt.Keys)
	run.Params["keys"] = strconv.Itoa(opt.Keys)
	run.Method = dedupMemoryMethod
	per := map[engine.DedupLayout][]float64{}
	pl := opt.plan()
	for r := 1; pl.moreClaims(r, dedupVerdicts(per)); r++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		for i := range engine.DedupLayouts {
			l := engine.DedupLayouts[(i+r)%len(engine.DedupLayouts)]
			b, err := engine.MeasureDedupMemory(l, keys)
			if err != nil {
				return err
			}
			per[l] = append(per[l], b)
		}
		run.Reps = r
		tell(opt, run.Claim, r)
	}
	for _, l := range engine.DedupLayouts {
		run.Figures = append(run.Figures, figure(string(l), "bytes_per_key", "B/key", per[l]))
	}
	run.Verdicts = dedupVerdicts(per)
	run.Notes = append(run.Notes, fmt.Sprintf("read as the per-batch stats structs instead: the legacy 13 counters (engine.LegacyStats) take %d B and the per-family stats (engine.FamilyStats) %d B; neither is 24 B",
		unsafe.Sizeof(engine.LegacyStats{}), unsafe.Sizeof(engine.FamilyStats{})))
	return nil
}

func dedupVerdicts(per map[engine.DedupLayout][]float64) []ClaimVerdict {
	str, typed := per[engine.LayoutStringSet], per[engine.LayoutTypedSet]
	saving := make([]float64, min(len(str), len(typed)))
	for i := range saving {
		saving[i] = (1 - str[i]/typed[i]) * 100
	}
	return []ClaimVerdict{
		claimVerdict(string(engine.LayoutStringSet), "bytes_per_key", ClaimRunWording("bytes_per_key", string(engine.LayoutStringSet)), 24, "B/key", str, AtMost, false),
		claimVerdict(string(engine.LayoutStringSet), "bytes_per_key_about", ClaimRunWording("bytes_per_key_about", string(engine.LayoutStringSet)), 176, "B/key", str, AtMost, true),
		claimVerdict(string(engine.LayoutTracker), "bytes_per_key", ClaimRunWording("bytes_per_key", string(engine.LayoutTracker)), 24, "B/key", per[engine.LayoutTracker], AtMost, false),
		claimVerdict("report-string-set vs legacy-typed-set", "saving_pct", ClaimRunWording("saving_pct", "report-string-set vs legacy-typed-set"), 75, "%", saving, AtLeast, false),
	}
}

// The report's cache settings (LazyValidationConfig), which the claim run
// uses.
const (
	reportCacheEntries = 10000
	reportCacheTTL     = time.Hour
)

// validationCacheMethod says what the validation-cache claim run measures.
const validationCacheMethod = "validation of re-sent uploads (engine.Resender: every kind, uploads of 1,000 records each repeating a share of the previous one) " +
	"with engine.Rules alone and through the validation cache (the report's 10,000 entries, 1 h TTL), one goroutine, ns per record by the monotonic clock; " +
	"uncached and cached interleaved, which goes first alternating; faster = (uncached - cached) / uncached; memory: the live heap of a cache holding 10,000 verdicts of distinct records"

// measureValidationCache fills run with the cache's hit rate and cost on
// re-sent uploads, and the verdicts on "80-95%" and "50-70% faster".
func measureValidationCache(ctx context.Context, opt ClaimOptions, run *ClaimRun) error {
	run.Params["resend_share"] = strconv.FormatFloat(opt.ResendShare, 'g', -1, 64)
	run.Params["uploads"] = strconv.Itoa(opt.Uploads)
	run.Params["upload_size"] = strconv.Itoa(engine.DefaultUploadSize)
	run.Method = validationCacheMethod
	end := time.Now().UTC().Truncate(24 * time.Hour)
	rs := engine.DefaultRules().WithClock(func() time.Time { return end })
	var hit, plain, cached, faster, mem []float64
	pl := opt.plan()
	for r := 1; pl.moreClaims(r, cacheVerdicts(hit, faster, mem)); r++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		recs, err := resentUploads(opt, uint64(r), end)
		if err != nil {
			return err
		}
		var u, c, h float64
		if r%2 == 1 {
			u = validateAll(rs, recs)
			c, h, err = validateCached(rs, recs)
		} else {
			c, h, err = validateCached(rs, recs)
			u = validateAll(rs, recs)
		}
		if err != nil {
			return err
		}
		fresh, err := freshRecords(opt.Seed+uint64(r), end, reportCacheEntries)
		if err != nil {
			return err
		}
		kb, err := engine.MeasureCacheMemory(rs, fresh)
		if err != nil {
			return err
		}
		mem = append(mem, kb/1024)
		hit, plain, cached = append(hit, h*100), append(plain, u), append(cached, c)
		faster = append(faster, (u-c)/u*100)
		run.Reps = r
		tell(opt, run.Claim, r)
	}
	run.Figures = []Figure{figure("cache", "hit_rate_pct", "%", hit), figure("uncached", "ns_per_record", "ns", plain),
		figure("cached", "ns_per_record", "ns", cached), figure("cache", "faster_pct", "%", faster), figure("cache", "kb_for_10000", "kB", mem)}
	run.Verdicts = cacheVerdicts(hit, faster, mem)
	return nil
}

func cacheVerdicts(hit, faster, mem []float64) []ClaimVerdict {
	return []ClaimVerdict{
		claimVerdict("cache", "hit_rate_pct", ClaimRunWording("hit_rate_pct", "cache"), 80, "%", hit, AtLeast, false),
		claimVerdict("cache", "faster_pct", ClaimRunWording("faster_pct", "cache"), 50, "%", faster, AtLeast, false),
		claimVerdict("cache", "kb_for_10000", ClaimRunWording("kb_for_10000", "cache"), 176, "kB", mem, AtMost, true),
	}
}

// freshRecords is n distinct generated records: a cache fed them holds n
// verdicts.
func freshRecords(seed uint64, end time.Time, n int) ([]engine.Record, error) {
	rs, err := engine.NewResender(engine.GenConfig{Seed: seed, End: end}, n, 0)
	if err != nil {
		return nil, err
	}
	return rs.Next(), nil
}

func resentUploads(opt ClaimOptions, rep uint64, end time.Time) ([]engine.Record, error) {
	rs, err := engine.NewResender(engine.GenConfig{Seed: opt.Seed + rep, End: end}, engine.DefaultUploadSize, opt.ResendShare)
	if err != nil {
		return nil, err
	}
	recs := make([]engine.Record, 0, opt.Uploads*engine.DefaultUploadSize)
	for range opt.Uploads {
		recs = append(recs, rs.Next()...)
	}
	return recs, nil
}

// validateAll is the ns per record of validating recs without a cache.
func validateAll(rs *engine.Rules, recs []engine.Record) float64 {
	var dst []engine.Violation
	start := time.Now()
	for _, r := range recs {
		dst = rs.Validate(r, dst[:0])
	}
	return float64(time.Since(start).Nanoseconds()) / float64(len(recs))
}

// validateCached is the ns per record of validating recs through a fresh
// cache, and its hit rate.
func validateCached(rs *engine.Rules, recs []engine.Record) (float64, float64, error) {
	c, err := engine.NewCache(reportCacheEntries, reportCacheTTL, time.Now)
	if err != nil {
		return 0, 0, err
	}
	var dst []engine.Violation
	start := time.Now()
	for _, r := range recs {
		dst = c.Validate(rs, r, dst[:0])
	}
	return float64(time.Since(start).Nanoseconds()) / float64(len(recs)), c.HitRate(), nil
}

func tell(opt ClaimOptions, claim string, rep int) {
	if opt.Progress != nil {
		opt.Progress(claim, rep)
	}
}
