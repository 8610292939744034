package bench

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/queries"
	"hmperf/queries/catalog"
	"hmperf/queries/copyenc"
)

// FeedOptions configure MeasureFeedOverhead.
type FeedOptions struct {
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
// pair inserts the same batch of activity rows with COPY twice: once alone,
// once followed by the batch's ingest_batch_stats row (whose AFTER INSERT
// trigger writes constraint_performance_monitor), the order alternating
// between pairs (ABBA) so drift cancels. The batches go to a scratch copy of
// activity_metrics_v2 (and its owners to a copy of users), built from the
// live catalogue and dropped at the end, so the live tables, their
// sequences and users are never touched. Every batch runs in a transaction
// that is rolled back, so nothing stays behind; the commit is therefore
// excluded from both timings, which makes the denominator smaller and the
// overhead figure an upper bound.
func MeasureFeedOverhead(ctx context.Context, db queries.DBTX, o FeedOptions) (fo FeedOverhead, err error) {
	o.Batches, o.BatchSize = cmp0(o.Batches, 40), cmp0(o.BatchSize, DefaultFeedBatch)
	ds, err := Generate("activity", o.BatchSize*o.Batches, o.Seed, time.Now())
	if err != nil {
		return FeedOverhead{}, err
	}
	if err := checkFeed(ctx, db, ds); err != nil {
		return FeedOverhead{}, err
	}
	err = WithScratch(ctx, db, []string{feedTable}, func(schema string) error {
		t, err := scratchTarget(ctx, db, schema, ds)
		if err != nil {
			return err
		}
		fo, err = measureFeed(ctx, db, o, t)
		return err
	})
	return fo, err
}

// feedTable is the live table whose batches the feed is measured against.
const feedTable = "activity_metrics_v2"

// feedTarget is the scratch copy the batches are written to, with the rows
// laid out for it and the copy of users their owners go to.
type feedTarget struct {
	table   pgx.Identifier
	columns []string
	ds      Dataset // rows in the copy's column order
	users   *catalog.Users
	// enc encodes the batches' records as ingest does (copyenc), so the
	// batch time the feed is set against is an ingest batch's.
	enc *copyenc.Layout
}

// scratchTarget is the copy of feedTable in schema, with ds laid out for it
// from the catalogue (the service's layout may lack columns hmperf's has).
func scratchTarget(ctx context.Context, db queries.DBTX, schema string, ds Dataset) (feedTarget, error) {
	m, rows, err := MapRows(ctx, db, pgx.Identifier{schema, feedTable}, ds)
	if err != nil {
		return feedTarget{}, fmt.Errorf("feed overhead: %w", err)
	}
	users, err := ReadUsers(ctx, db, schema)
	if err != nil {
		return feedTarget{}, err
	}
	enc, err := copyenc.Describe(ctx, db, ds.Kind, m)
	if err != nil {
		return feedTarget{}, fmt.Errorf("feed overhead: %w", err)
	}
	ds.Rows = rows
	return feedTarget{table: m.Table.Ident(), columns: m.Columns, ds: ds, users: users, enc: enc}, nil
}

// measureFeed times o.Batches pairs of batches into t.
func measureFeed(ctx context.Context, db queries.DBTX, o FeedOptions, t feedTarget) (FeedOverhead, error) {
	skip := queries.CanSkipTriggers(ctx, db) == nil
	var with, none, pct, feedMs, trigMs []float64
	for i := range o.Batches {
		batch := t
		batch.ds = slice(t.ds, i*o.BatchSize, o.BatchSize)
		order := []bool{true, false}
		if i%2 == 1 {
			order = []bool{false, true}
		}
		var tt [2]float64
		for _, feed := range order {
			tb, err := timedBatch(ctx, db, batch, feed, feed && skip, i)
			if err != nil {
				return FeedOverhead{}, err
			}
			tt[b2i(feed)] = tb.total
			if feed {
				feedMs = append(feedMs, tb.feed*1000)
			}
			if feed && skip {
				trigMs = append(trigMs, (tb.feed-tb.statsOnly)*1000)
			}
		}
		with, none = append(with, tt[1]*1000), append(none, tt[0]*1000)
		pct = append(pct, (tt[1]-tt[0])/tt[0]*100)
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
func summarizeFeed(o FeedOptions, s feedSamples) FeedOverhead {
	fo := FeedOverhead{Batches: o.Batches, BatchSize: o.BatchSize,
		MedianWithMs: Median(s.with), MedianNoneMs: Median(s.none),
		OverheadPct: Median(s.pct), MinPct: slices.Min(s.pct), MaxPct: slices.Max(s.pct),
		FeedMs: Median(s.feedMs)}
	fo.FeedPct = fo.FeedMs / fo.MedianNoneMs * 100
	if len(s.trigMs) > 0 {
		ms := Median(s.trigMs)
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
func slice(ds Dataset, from, n int) Dataset {
	out := ds
	out.Rows = ds.Rows[from : from+n]
	out.Records = ds.Records[from : from+n]
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
func timedBatch(ctx context.Context, db queries.DBTX, t feedTarget, feed, bare bool, batchNo int) (batchTimes, error) {
	var bt batchTimes
	tx, err := db.Begin(ctx)
	if err != nil {
		return bt, err
	}
	defer queries.Rollback(tx)
	if err := t.users.Insert(ctx, tx, t.ds.Owners()); err != nil {
		return bt, fmt.Errorf("create the batch's owners in the scratch copy of users: %w", err)
	}
	start := time.Now()
	n, err := copyenc.Copy(ctx, tx.Conn().PgConn(), t.enc, t.table, t.ds.Records)
	if err != nil {
		return bt, fmt.Errorf("copy a batch into %s: %w", t.table.Sanitize(), err)
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
func checkFeed(ctx context.Context, db queries.DBTX, ds Dataset) error {
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
