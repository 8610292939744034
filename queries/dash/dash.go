// Package dash holds the dashboard's own reads: the server version and the
// ingest activity from the batch stats. Every query reads a bounded, indexed time
// range so a poll stays cheap however large the stats tables grow.
package dash

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/queries"
)

// RatePoint is the ingest rate over one time bucket.
type RatePoint struct {
	At         time.Time
	RowsPerSec float64
}

// QueueIngestRate queues the read of the ingest rate into *out: records
// received per second of wall time in buckets of width over the last span,
// oldest first, with empty buckets as zero; for a caller that sends it with
// other reads in one round trip.
func QueueIngestRate(b *pgx.Batch, span, width time.Duration, out *[]RatePoint) {
	b.Queue(`
		SELECT b.at, coalesce(sum(s.received), 0)::float8 / $2
		  FROM generate_series(to_timestamp(floor(extract(epoch FROM now()) / $2) * $2) - make_interval(secs => $1),
		                       to_timestamp(floor(extract(epoch FROM now()) / $2) * $2),
		                       make_interval(secs => $2)) AS b(at)
		  LEFT JOIN hmperf.ingest_batch_stats s
		    ON s.recorded_at >= b.at AND s.recorded_at < b.at + make_interval(secs => $2)
		   AND s.recorded_at >= now() - make_interval(secs => $1 + $2)
		 GROUP BY b.at ORDER BY b.at`, span.Seconds(), width.Seconds()).
		Query(func(rows pgx.Rows) (err error) {
			if *out, err = pgx.CollectRows(rows, pgx.RowToStructByPos[RatePoint]); err != nil {
				return fmt.Errorf("read ingest rate: %w", err)
			}
			return nil
		})
}

// Batch is one batch's accounting for one table.
type Batch struct {
	At          time.Time
	Table       string
	Received    int64
	Inserted    int64
	Duplicates  int64
	Rejected    int64
	Unsupported int64
	// ValidationRejected and ConstraintFailures are the parts of Rejected
	// the validator stopped and PostgreSQL refused (SQLSTATE class 23); nil
	// for batches stored before they were counted apart.
	ValidationRejected *int64
	ConstraintFailures *int64
	// RowsPerSec is received records per second of the batch's own work
	// (validation, dedup and write).
	RowsPerSec float64
}

// ReasonCount is how many records were rejected for one reason.
type ReasonCount struct {
	Reason string
	Count  int64
}

// IngestSummary is the rejections by reason and the validation cache's hits
// and misses over a recent window.
type IngestSummary struct {
	Reasons                []ReasonCount
	CacheHits, CacheMisses int64
}

// ReadIngest reads, in one round trip, the latest limit batches, newest
// first, and the rejections by reason (the topReasons most frequent) and
// the cache counters since since: the Ingest panel, read every tick.
func ReadIngest(ctx context.Context, db queries.DBTX, limit int, since time.Time, topReasons int) ([]Batch, IngestSummary, error) {
	var batches []Batch
	var sum IngestSummary
	b := &pgx.Batch{}
	b.Queue(`
		SELECT recorded_at, table_name, received, inserted, duplicates, rejected, unsupported,
		       validation_rejected::bigint, constraint_failures::bigint,
		       CASE WHEN validate_ms + dedup_ms + write_ms > 0
		            THEN received * 1000.0 / (validate_ms + dedup_ms + write_ms) ELSE 0 END
		  FROM hmperf.ingest_batch_stats ORDER BY recorded_at DESC LIMIT $1`, limit).
		Query(func(rows pgx.Rows) (err error) {
			if batches, err = pgx.CollectRows(rows, pgx.RowToStructByPos[Batch]); err != nil {
				return fmt.Errorf("read ingest batches: %w", err)
			}
			return nil
		})
	b.Queue(`SELECT coalesce(sum(cache_hits), 0)::bigint, coalesce(sum(cache_misses), 0)::bigint
		  FROM hmperf.ingest_batch_stats WHERE recorded_at >= $1`, since).
		QueryRow(func(row pgx.Row) error {
			if err := row.Scan(&sum.CacheHits, &sum.CacheMisses); err != nil {
				return fmt.Errorf("read cache counters: %w", err)
			}
			return nil
		})
	b.Queue(`
		SELECT r.key, sum(r.value::bigint)::bigint
		  FROM hmperf.ingest_batch_stats s, jsonb_each_text(s.rejects_by_reason) r
		 WHERE s.recorded_at >= $1 AND s.rejected > 0
		 GROUP BY r.key ORDER BY 2 DESC, 1 LIMIT $2`, since, topReasons).
		Query(func(rows pgx.Rows) (err error) {
			if sum.Reasons, err = pgx.CollectRows(rows, pgx.RowToStructByPos[ReasonCount]); err != nil {
				return fmt.Errorf("read rejects by reason: %w", err)
			}
			return nil
		})
	if err := db.SendBatch(ctx, b).Close(); err != nil {
		return nil, IngestSummary{}, err
	}
	return batches, sum, nil
}
