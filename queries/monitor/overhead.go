package monitor

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/queries"
	"hmperf/queries/bench"
)

// OverheadOptions configure MeasureFeedOverhead.
type OverheadOptions struct {
	Batches   int    // measured pairs (with, without); default 40
	BatchSize int    // rows per batch; default DefaultFeedBatch
	Seed      uint64 // generator seed
}

// FeedOverhead is what feeding constraint_performance_monitor costs one
// ingest batch.
type FeedOverhead struct {
	Batches      int     `json:"batches"`
	BatchSize    int     `json:"batch_size"`
	MedianWithMs float64 `json:"median_with_ms"`
	MedianNoneMs float64 `json:"median_without_ms"`
	// OverheadPct is the median over pairs of (t_with − t_without)/t_without
	// in percent; MinPct and MaxPct are the extremes of the same values.
	OverheadPct float64 `json:"overhead_pct"`
	MinPct      float64 `json:"min_pct"`
	MaxPct      float64 `json:"max_pct"`
	// FeedMs is the median time of the feed alone (the stats INSERT and
	// its trigger) inside the "with" batches, and FeedPct that time as a
	// share of the median batch without the feed: a direct, less noisy
	// reading of the same cost than the paired difference.
	FeedMs  float64 `json:"feed_ms"`
	FeedPct float64 `json:"feed_pct"`
	// TriggersMs is the monitoring proper: the median over batches of the
	// stats row's time with the triggers that feed the monitor minus the
	// same row's time without them (session_replication_role = replica
	// skips them, no DDL needed), in the same transaction, order
	// alternating. The stats row itself is ingest's bookkeeping, written
	// with or without monitoring. TriggersPct is it as a share of the
	// median batch. Both are nil when the role may not skip triggers.
	TriggersMs  *float64 `json:"triggers_ms"`
	TriggersPct *float64 `json:"triggers_pct"`
}

// DefaultFeedBatch is the batch the feed is measured against: the batch
// size of `hmperf ingest`, since the feed costs the same per batch however
// many rows the batch holds.
const DefaultFeedBatch = 5000

// MeasureFeedOverhead measures the monitoring feed on the insert path. Each
// pair inserts the same batch of activity rows into activity_metrics_v2 with
// COPY twice: once alone, once followed by the batch's ingest_batch_stats
// row (whose AFTER INSERT trigger writes constraint_performance_monitor),
// the order alternating between pairs (ABBA) so drift cancels. Every batch
// runs in a transaction that is rolled back, so nothing stays behind; the
// commit is therefore excluded from both timings, which makes the
// denominator smaller and the overhead figure an upper bound.
func MeasureFeedOverhead(ctx context.Context, db bench.DB, o OverheadOptions) (FeedOverhead, error) {
	o.Batches, o.BatchSize = cmp0(o.Batches, 40), cmp0(o.BatchSize, DefaultFeedBatch)
	ds, err := bench.Generate("activity", o.BatchSize*o.Batches, o.Seed, time.Now())
	if err != nil {
		return FeedOverhead{}, err
	}
	if err := checkFeed(ctx, db, ds); err != nil {
		return FeedOverhead{}, err
	}
	skip := queries.CanSkipTriggers(ctx, db) == nil
	own, err := queries.HasOwnWrites(ctx, db)
	if err != nil {
		return FeedOverhead{}, err
	}
	var with, none, pct, feedMs, trigMs []float64
	for i := range o.Batches {
		batch := slice(ds, i*o.BatchSize, o.BatchSize)
		order := []bool{true, false}
		if i%2 == 1 {
			order = []bool{false, true}
		}
		var t [2]float64
		for _, feed := range order {
			tb, err := timedBatch(ctx, db, batch, feed, feed && skip, own, i)
			if err != nil {
				return FeedOverhead{}, err
			}
			t[b2i(feed)] = tb.total
			if feed {
				feedMs = append(feedMs, tb.feed*1000)
			}
			if feed && skip {
				trigMs = append(trigMs, (tb.feed-tb.statsOnly)*1000)
			}
		}
		with, none = append(with, t[1]*1000), append(none, t[0]*1000)
		pct = append(pct, (t[1]-t[0])/t[0]*100)
	}
	return summarizeFeed(o, feedSamples{with: with, none: none, pct: pct, feedMs: feedMs, trigMs: trigMs}), nil
}

// feedSamples are the per-batch figures MeasureFeedOverhead collects: batch
// times with and without the feed (ms), the paired overhead (%), the feed's
// own time (ms) and the triggers' share of it (ms; empty when the role may
// not skip triggers).
type feedSamples struct {
	with, none, pct, feedMs, trigMs []float64
}

// summarizeFeed reduces the samples to the figures FeedOverhead reports.
func summarizeFeed(o OverheadOptions, s feedSamples) FeedOverhead {
	fo := FeedOverhead{Batches: o.Batches, BatchSize: o.BatchSize,
		MedianWithMs: bench.Median(s.with), MedianNoneMs: bench.Median(s.none),
		OverheadPct: bench.Median(s.pct), MinPct: slices.Min(s.pct), MaxPct: slices.Max(s.pct),
		FeedMs: bench.Median(s.feedMs)}
	fo.FeedPct = fo.FeedMs / fo.MedianNoneMs * 100
	if len(s.trigMs) > 0 {
		ms := bench.Median(s.trigMs)
		p := ms / fo.MedianNoneMs * 100
		fo.TriggersMs, fo.TriggersPct = &ms, &p
	}
	return fo
}

func cmp0(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// slice returns rows [from, from+n) of ds, with the users they need.
func slice(ds bench.Dataset, from, n int) bench.Dataset {
	out := ds
	out.Rows = ds.Rows[from : from+n]
	return out
}

// batchTimes are the timings of one batch, in seconds.
type batchTimes struct {
	total     float64 // the COPY, plus the stats row with its triggers when fed
	feed      float64 // the stats row with its triggers
	statsOnly float64 // the same row without the triggers (not in total)
}

// timedBatch runs one batch in a rolled-back transaction and times the COPY
// and, when feed is set, the stats insert that follows it (also timed alone).
// With bare set it also writes the stats row a second time with the
// triggers skipped, before or after the fed one as batchNo alternates, and
// times that alone.
//
// With own set (migration 0032) the rolled-back rows are recorded in
// hmperf.own_writes, after the timings, so the write sampler never counts
// them as the service's.
func timedBatch(ctx context.Context, db bench.DB, ds bench.Dataset, feed, bare, own bool, batchNo int) (batchTimes, error) {
	tx, err := db.Begin(ctx)
	if err != nil {
		return batchTimes{}, err
	}
	defer queries.Rollback(tx)
	if !own {
		return batchInTx(ctx, tx, ds, feed, bare, batchNo)
	}
	if _, err := tx.Exec(ctx, "SAVEPOINT "+measureSavepoint); err != nil {
		return batchTimes{}, err
	}
	bt, err := batchInTx(ctx, tx, ds, feed, bare, batchNo)
	if rerr := queries.RollBackRecorded(ctx, tx, measureSavepoint, []string{"users", "activity_metrics_v2"}); err == nil {
		err = rerr
	}
	return bt, err
}

// measureSavepoint holds a measured batch's writes, rolled back after.
const measureSavepoint = "hmperf_measure"

// batchInTx is timedBatch's batch, inside tx.
func batchInTx(ctx context.Context, tx pgx.Tx, ds bench.Dataset, feed, bare bool, batchNo int) (batchTimes, error) {
	var bt batchTimes
	if _, err := tx.Exec(ctx, "INSERT INTO users (id) SELECT unnest($1::uuid[]) ON CONFLICT (id) DO NOTHING", ds.Users); err != nil {
		return bt, err
	}
	start := time.Now()
	n, err := tx.CopyFrom(ctx, pgx.Identifier{"activity_metrics_v2"}, ds.Columns, pgx.CopyFromRows(ds.Rows))
	if err != nil {
		return bt, fmt.Errorf("copy a batch into activity_metrics_v2: %w", err)
	}
	copySecs := time.Since(start).Seconds()
	bt.total = copySecs
	if !feed {
		return bt, nil
	}
	for _, fed := range statsOrder(bare, batchNo) {
		secs, err := timedStats(ctx, tx, batchNo, int(n), copySecs, fed)
		if err != nil {
			return bt, err
		}
		if fed {
			bt.feed = secs
		} else {
			bt.statsOnly = secs
		}
	}
	bt.total += bt.feed
	return bt, nil
}

// statsOrder is the order of the stats rows of a fed batch: true is the row
// with the monitor's triggers, false the one without.
func statsOrder(bare bool, batchNo int) []bool {
	switch {
	case !bare:
		return []bool{true}
	case batchNo%2 == 0:
		return []bool{true, false}
	}
	return []bool{false, true}
}

// timedStats writes one stats row, with the triggers or (fed false) with
// them skipped, and times the INSERT alone.
func timedStats(ctx context.Context, tx pgx.Tx, batchNo, rows int, copySecs float64, fed bool) (float64, error) {
	if !fed {
		if _, err := tx.Exec(ctx, "SET LOCAL session_replication_role = replica"); err != nil {
			return 0, err
		}
	}
	start := time.Now()
	if err := insertBatchStats(ctx, tx, batchNo, rows, time.Duration(copySecs*float64(time.Second))); err != nil {
		return 0, err
	}
	secs := time.Since(start).Seconds()
	if !fed {
		if _, err := tx.Exec(ctx, "SET LOCAL session_replication_role = origin"); err != nil {
			return 0, err
		}
	}
	return secs, nil
}

// insertBatchStats writes the row the ingest engine writes after each batch.
func insertBatchStats(ctx context.Context, tx pgx.Tx, batchNo, rows int, took time.Duration) error {
	var run [16]byte
	_, _ = rand.Read(run[:])
	run[6], run[8] = run[6]&0x0f|0x40, run[8]&0x3f|0x80
	_, err := tx.Exec(ctx, `
		INSERT INTO hmperf.ingest_batch_stats (run_id, batch_no, table_name, context, received, inserted, duplicates,
		                                rejected, unsupported, write_ms, cache_hits, cache_misses)
		VALUES ($1, $2, 'activity_metrics_v2', 'bulk-import', $3::int, $3::int, 0, 0, 0, $4, $3::int, 0)`,
		run, batchNo, rows, float64(took.Microseconds())/1000)
	if err != nil {
		return fmt.Errorf("insert ingest batch stats: %w", err)
	}
	return nil
}

// checkFeed proves the feed is wired before measuring it: one batch-stats
// row must produce one constraint_performance_monitor row (rolled back).
func checkFeed(ctx context.Context, db bench.DB, ds bench.Dataset) error {
	tx, err := db.Begin(ctx)
	if err != nil {
		return err
	}
	defer queries.Rollback(tx)
	var before, after int64
	q := "SELECT count(*) FROM constraint_performance_monitor WHERE source = 'ingest'"
	if err := tx.QueryRow(ctx, q).Scan(&before); err != nil {
		return fmt.Errorf("read constraint_performance_monitor: %w", err)
	}
	if err := insertBatchStats(ctx, tx, 0, 1, time.Millisecond); err != nil {
		return err
	}
	if err := tx.QueryRow(ctx, q).Scan(&after); err != nil {
		return err
	}
	if after != before+1 {
		return fmt.Errorf("monitor feed: one ingest_batch_stats row made %d constraint_performance_monitor rows, want 1", after-before)
	}
	return nil
}
