// Package monitor reads constraint performance and alerts: the
// real_time_constraint_performance view, check_constraint_performance_alerts()
// and the thresholds table. constraint_performance_monitor is fed by AFTER
// INSERT triggers on ingest_batch_stats (one row per ingest batch) and
// benchmark_results (one row per measurement, labelled with the scratch
// copies it measured, hmperf_scratch.<table>), never by a per-row write on
// the data insert path; bench.MeasureFeedOverhead measures what the feed
// costs an ingest batch. Alerts skip every label in hmperf's own schemas (the
// sandbox's and the benchmarks'): they are about the service's tables.
package monitor

import (
	"context"

	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/queries"
)

// Hour is one row of real_time_constraint_performance: one table, one hour.
// Nullable figures (no data to compute them from) are NaN-free pointers.
type Hour struct {
	Table         string    `json:"table_name"`
	HourBucket    time.Time `json:"hour_bucket"`
	Rows          int64     `json:"rows"`
	RowsPerSec    *float64  `json:"rows_per_sec"`
	MsPer1000Rows *float64  `json:"ms_per_1000_rows"`
	OverheadPct   *float64  `json:"constraint_overhead_pct"`
	// Failures is the rows PostgreSQL refused with an integrity constraint
	// violation, nil where no sample of the hour could observe them (rows
	// another client wrote: the server keeps no count of refused
	// statements). FailuresUnobserved counts the samples that could not, so
	// a count beside a non-zero FailuresUnobserved is a lower bound.
	Failures           *int64   `json:"constraint_failures"`
	FailuresUnobserved int64    `json:"constraint_failures_unobserved_samples"`
	CacheHitRate       *float64 `json:"cache_hit_rate"`
	// ValidationRejected is the records hmperf's validator stopped before
	// writing, and ValidationRejectionRate their share of the records
	// validated, in percent; nil where nothing was validated.
	ValidationRejected      *int64   `json:"rejected_by_validation"`
	ValidationRejectionRate *float64 `json:"validation_rejection_rate"`
	// The service's writes seen by sampling the statistics (migration
	// 0025; nil on older schemas or hours nobody sampled): its committed
	// rows, the rolled-back rows, throughput (rows per second of wall time)
	// and insert speed (rows per second while its statements ran).
	ObservedRows       *int64   `json:"observed_rows"`
	RolledBackRows     *int64   `json:"rolled_back_rows"`
	Throughput         *float64 `json:"throughput_rows_per_sec"`
	InsertSpeed        *float64 `json:"insert_speed_rows_per_sec"`
	InsertMsPer1000Row *float64 `json:"insert_ms_per_1000_rows"`
}

// Recent reads the last hours of real_time_constraint_performance, newest
// first (the report's dashboard query takes 24 rows); limit <= 0 means 24.
// On a schema older than 0025 the view has no observed-writes columns: those
// stay nil.
func Recent(ctx context.Context, db queries.DBTX, limit int) ([]Hour, error) {
	if limit <= 0 {
		limit = 24
	}
	out, err := recent(ctx, db, limit, `failures::bigint, coalesce(failures_unobserved, 0)::bigint,
		cache_hit_rate::float8, validation_rejected::bigint, validation_rejection_rate::float8,
		observed_rows, rolled_back_rows, throughput_rows_per_sec::float8,
		insert_speed_rows_per_sec::float8, insert_ms_per_1000_rows::float8`)
	if queries.IsUndefined(err) {
		// Before 0027 the view's failures counted validator rejections
		// too: not a count of refused rows, so not shown as one.
		out, err = recent(ctx, db, limit, `NULL::bigint, 0::bigint, cache_hit_rate::float8, NULL::bigint, NULL::float8,
			NULL::bigint, NULL::bigint, NULL::float8, NULL::float8, NULL::float8`)
	}
	if err != nil {
		return nil, fmt.Errorf("read constraint performance: %w", err)
	}
	return out, nil
}

// recent reads the view's common columns and then the columns that depend
// on the schema's version, as the caller spells them.
func recent(ctx context.Context, db queries.DBTX, limit int, versioned string) ([]Hour, error) {
	rows, err := db.Query(ctx, `
		SELECT table_name, hour_bucket, coalesce(rows, 0)::bigint, rows_per_sec::float8, ms_per_1000_rows::float8,
		       constraint_overhead_pct::float8, `+versioned+`
		  FROM real_time_constraint_performance
		 ORDER BY hour_bucket DESC, table_name LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Hour])
}

// Severity is an alert's level as check_constraint_performance_alerts()
// spells it.
type Severity string

// The alert severities.
const (
	Warning  Severity = "WARNING"
	Critical Severity = "CRITICAL"
)

// Alert is one firing alert.
type Alert struct {
	Name        string    `json:"alert_name"`
	Severity    Severity  `json:"severity"`
	Table       string    `json:"table_name"`
	Observed    float64   `json:"observed"`
	Threshold   float64   `json:"threshold"`
	FiringSince time.Time `json:"firing_since"`
	Message     string    `json:"message"`
}

// Alerts returns the alerts firing now, CRITICAL first.
func Alerts(ctx context.Context, db queries.DBTX) ([]Alert, error) {
	rows, err := db.Query(ctx, `
		SELECT alert_name, severity, coalesce(table_name, ''), observed::float8, threshold::float8,
		       firing_since, coalesce(message, '')
		  FROM check_constraint_performance_alerts()
		 ORDER BY severity = 'CRITICAL' DESC, alert_name, table_name`)
	if err != nil {
		return nil, fmt.Errorf("check alerts: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Alert])
	if err != nil {
		return nil, fmt.Errorf("check alerts: %w", err)
	}
	return out, nil
}

// Worst returns the highest severity among alerts, "" when none fires.
func Worst(alerts []Alert) Severity {
	var worst Severity
	for _, a := range alerts {
		if a.Severity == Critical {
			return Critical
		}
		worst = Warning
	}
	return worst
}

// Threshold is one row of constraint_alert_thresholds.
type Threshold struct {
	Name        string   `json:"alert_name"`
	Metric      string   `json:"metric"`
	Comparison  string   `json:"comparison"`
	Threshold   float64  `json:"threshold"`
	Severity    Severity `json:"severity"`
	Enabled     bool     `json:"enabled"`
	Description string   `json:"description"`
}

// Thresholds reads the alert thresholds a DBA can change.
func Thresholds(ctx context.Context, db queries.DBTX) ([]Threshold, error) {
	rows, err := db.Query(ctx, `
		SELECT alert_name, metric, comparison, threshold::float8, severity, enabled, coalesce(description, '')
		  FROM constraint_alert_thresholds ORDER BY alert_name`)
	if err != nil {
		return nil, fmt.Errorf("read alert thresholds: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Threshold])
}
