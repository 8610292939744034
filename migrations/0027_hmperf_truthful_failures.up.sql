-- 0027_hmperf_truthful_failures (hmperf): name failures for what they are.
--
-- Until now the monitor's "failures" were hmperf.ingest_batch_stats.rejected: every
-- record hmperf's ingest turned away, most of them stopped by the Go
-- validator before they reached the database. They showed as constraint
-- failures and fired constraint_failures_warning on every first sample run.
--
--   * hmperf.ingest_batch_stats gains constraint_failures (rows PostgreSQL refused
--     with an integrity constraint violation, SQLSTATE class 23) and
--     validation_rejected (records the Go validator rejected). Both are part
--     of rejected, which keeps its meaning (everything turned away). NULL
--     means "not counted": batches stored before this migration.
--   * constraint_performance_monitor.failures becomes nullable with no
--     default: NULL means the count cannot be observed (rows written by
--     another client: PostgreSQL keeps no count of refused statements).
--     Ingest samples carry constraint_failures; benchmark samples 0 (a
--     benchmark that completes had no refusal). The ingest samples stored
--     before this migration counted validator rejections: they become NULL.
--     A new column validation_rejected carries the validator's count.
--   * The hourly rollup counts how many samples had an observable count, so
--     real_time_constraint_performance shows failures as NULL where no sample
--     of the hour could count them, and appends validation_rejected,
--     validation_rejection_rate and failures_unobserved (samples of the hour
--     whose refusals could not be counted).
--   * A separate alert, validation_rejections_high (WARNING, > 10% of the
--     records an ingest received in an hour). Validator rejections are bad
--     input from a client, not a slow or failing database; the sample
--     generator's default invalid rate (2%) stays well below it.
BEGIN;

ALTER TABLE hmperf.ingest_batch_stats
    ADD COLUMN constraint_failures integer,
    ADD COLUMN validation_rejected integer,
    ADD CONSTRAINT ingest_batch_stats_rejected_split_check
        CHECK (constraint_failures >= 0 AND validation_rejected >= 0
               AND coalesce(constraint_failures, 0) + coalesce(validation_rejected, 0) <= rejected);

COMMENT ON COLUMN hmperf.ingest_batch_stats.constraint_failures IS
    'Rows of the batch PostgreSQL refused with SQLSTATE class 23 (integrity constraint violation); NULL: not counted.';
COMMENT ON COLUMN hmperf.ingest_batch_stats.validation_rejected IS
    'Records of the batch the Go validator rejected before any write; NULL: not counted.';

ALTER TABLE constraint_performance_monitor
    ALTER COLUMN failures DROP NOT NULL,
    ALTER COLUMN failures DROP DEFAULT,
    ADD COLUMN validation_rejected bigint,
    ADD CONSTRAINT constraint_performance_monitor_validation_check CHECK (validation_rejected >= 0);

COMMENT ON COLUMN constraint_performance_monitor.failures IS
    'Rows PostgreSQL refused (SQLSTATE class 23); NULL where they cannot be observed.';
COMMENT ON COLUMN constraint_performance_monitor.validation_rejected IS
    'Records the Go validator rejected before writing (ingest samples only); NULL elsewhere.';

ALTER TABLE hmperf.constraint_performance_hourly
    ADD COLUMN failures_n          bigint NOT NULL DEFAULT 0,
    ADD COLUMN validation_rejected bigint NOT NULL DEFAULT 0,
    ADD COLUMN validation_rows     bigint NOT NULL DEFAULT 0,
    ADD COLUMN validation_n        bigint NOT NULL DEFAULT 0;

COMMENT ON COLUMN hmperf.constraint_performance_hourly.failures_n IS
    'Samples whose constraint failures were observable; failures sums only those.';

CREATE OR REPLACE FUNCTION hmperf.monitor_ingest_batch_stats() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO constraint_performance_monitor
           (table_name, measured_at, source, source_ref, rows, seconds,
            constraint_overhead_pct, failures, validation_rejected, cache_hits, cache_misses)
    SELECT b.table_name, b.recorded_at, 'ingest', b.id, b.received,
           (b.validate_ms + b.dedup_ms + b.write_ms) / 1000.0,
           NULL, b.constraint_failures, b.validation_rejected, b.cache_hits, b.cache_misses
      FROM new_rows b;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION hmperf.constraint_performance_rollup_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO hmperf.constraint_performance_hourly AS h
           (table_name, hour_bucket, samples, rows, seconds, overhead_sum, overhead_n,
            failures, cache_hits, cache_misses,
            failures_n, validation_rejected, validation_rows, validation_n)
    SELECT m.table_name, date_trunc('hour', m.measured_at),
           count(*), sum(m.rows)::bigint, sum(m.seconds),
           coalesce(sum(m.constraint_overhead_pct), 0), count(m.constraint_overhead_pct),
           coalesce(sum(m.failures), 0)::bigint, sum(m.cache_hits)::bigint, sum(m.cache_misses)::bigint,
           count(m.failures), coalesce(sum(m.validation_rejected), 0)::bigint,
           coalesce(sum(m.rows) FILTER (WHERE m.validation_rejected IS NOT NULL), 0)::bigint,
           count(m.validation_rejected)
      FROM new_rows m
     GROUP BY 1, 2
    ON CONFLICT (hour_bucket, table_name) DO UPDATE
       SET samples             = h.samples             + EXCLUDED.samples,
           rows                = h.rows                + EXCLUDED.rows,
           seconds             = h.seconds             + EXCLUDED.seconds,
           overhead_sum        = h.overhead_sum        + EXCLUDED.overhead_sum,
           overhead_n          = h.overhead_n          + EXCLUDED.overhead_n,
           failures            = h.failures            + EXCLUDED.failures,
           cache_hits          = h.cache_hits          + EXCLUDED.cache_hits,
           cache_misses        = h.cache_misses        + EXCLUDED.cache_misses,
           failures_n          = h.failures_n          + EXCLUDED.failures_n,
           validation_rejected = h.validation_rejected + EXCLUDED.validation_rejected,
           validation_rows     = h.validation_rows     + EXCLUDED.validation_rows,
           validation_n        = h.validation_n        + EXCLUDED.validation_n;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION hmperf.constraint_performance_rollup_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    side record;
BEGIN
    FOR side IN
        SELECT * FROM (VALUES ('old_rows', -1), ('new_rows', 1)) AS v(rel, sign)
         WHERE rel = 'old_rows' OR TG_OP = 'UPDATE'
    LOOP
        EXECUTE format($sql$
            INSERT INTO hmperf.constraint_performance_hourly AS h
                   (table_name, hour_bucket, samples, rows, seconds, overhead_sum, overhead_n,
                    failures, cache_hits, cache_misses,
                    failures_n, validation_rejected, validation_rows, validation_n)
            SELECT m.table_name, date_trunc('hour', m.measured_at),
                   %1$s * count(*), %1$s * sum(m.rows)::bigint, %1$s * sum(m.seconds),
                   %1$s * coalesce(sum(m.constraint_overhead_pct), 0), %1$s * count(m.constraint_overhead_pct),
                   %1$s * coalesce(sum(m.failures), 0)::bigint, %1$s * sum(m.cache_hits)::bigint, %1$s * sum(m.cache_misses)::bigint,
                   %1$s * count(m.failures), %1$s * coalesce(sum(m.validation_rejected), 0)::bigint,
                   %1$s * coalesce(sum(m.rows) FILTER (WHERE m.validation_rejected IS NOT NULL), 0)::bigint,
                   %1$s * count(m.validation_rejected)
              FROM %2$I m
             GROUP BY 1, 2
            ON CONFLICT (hour_bucket, table_name) DO UPDATE
               SET samples             = h.samples             + EXCLUDED.samples,
                   rows                = h.rows                + EXCLUDED.rows,
                   seconds             = h.seconds             + EXCLUDED.seconds,
                   overhead_sum        = h.overhead_sum        + EXCLUDED.overhead_sum,
                   overhead_n          = h.overhead_n          + EXCLUDED.overhead_n,
                   failures            = h.failures            + EXCLUDED.failures,
                   cache_hits          = h.cache_hits          + EXCLUDED.cache_hits,
                   cache_misses        = h.cache_misses        + EXCLUDED.cache_misses,
                   failures_n          = h.failures_n          + EXCLUDED.failures_n,
                   validation_rejected = h.validation_rejected + EXCLUDED.validation_rejected,
                   validation_rows     = h.validation_rows     + EXCLUDED.validation_rows,
                   validation_n        = h.validation_n        + EXCLUDED.validation_n
            $sql$, side.sign, side.rel);
    END LOOP;
    DELETE FROM hmperf.constraint_performance_hourly WHERE samples = 0;
    RETURN NULL;
END;
$$;

-- The ingest samples stored so far counted every rejected record as a
-- failure; which of them PostgreSQL refused is not known any more. The
-- hourly sums are rebuilt from the corrected rows.
ALTER TABLE constraint_performance_monitor DISABLE TRIGGER constraint_performance_rollup_update;
UPDATE constraint_performance_monitor SET failures = NULL WHERE source = 'ingest';
ALTER TABLE constraint_performance_monitor ENABLE TRIGGER constraint_performance_rollup_update;

TRUNCATE hmperf.constraint_performance_hourly;
INSERT INTO hmperf.constraint_performance_hourly
       (table_name, hour_bucket, samples, rows, seconds, overhead_sum, overhead_n,
        failures, cache_hits, cache_misses, failures_n, validation_rejected, validation_rows, validation_n)
SELECT table_name, date_trunc('hour', measured_at), count(*), sum(rows)::bigint, sum(seconds),
       coalesce(sum(constraint_overhead_pct), 0), count(constraint_overhead_pct),
       coalesce(sum(failures), 0)::bigint, sum(cache_hits)::bigint, sum(cache_misses)::bigint,
       count(failures), coalesce(sum(validation_rejected), 0)::bigint,
       coalesce(sum(rows) FILTER (WHERE validation_rejected IS NOT NULL), 0)::bigint, count(validation_rejected)
  FROM constraint_performance_monitor
 GROUP BY 1, 2;

-- The columns of 0025's view, failures now NULL where no sample of the hour
-- could count refusals, and three columns appended.
CREATE OR REPLACE VIEW real_time_constraint_performance AS
SELECT coalesce(h.table_name, o.table_name)                          AS table_name,
       coalesce(h.hour_bucket, o.hour_bucket)                        AS hour_bucket,
       (coalesce(h.samples, 0) + coalesce(o.samples, 0))::bigint     AS samples,
       (coalesce(h.rows, 0) + coalesce(o.rows, 0))::bigint           AS rows,
       h.seconds                                                     AS seconds,
       CASE WHEN h.seconds > 0 THEN h.rows / h.seconds END           AS rows_per_sec,
       CASE WHEN h.rows > 0 THEN h.seconds * 1000000.0 / h.rows END  AS ms_per_1000_rows,
       CASE WHEN h.overhead_n > 0 THEN h.overhead_sum / h.overhead_n END
                                                                     AS constraint_overhead_pct,
       CASE WHEN h.failures_n > 0 THEN h.failures END                AS failures,
       CASE WHEN h.cache_hits + h.cache_misses > 0
            THEN 100.0 * h.cache_hits / (h.cache_hits + h.cache_misses)::double precision
       END                                                           AS cache_hit_rate,
       CASE WHEN s.hour_bucket IS NOT NULL THEN coalesce(o.rows, 0) END
                                                                     AS observed_rows,
       o.rolled_back                                                 AS rolled_back_rows,
       o.rollback_unknown                                            AS rollback_unknown_rows,
       CASE WHEN s.wall_seconds > 0 THEN coalesce(o.rows, 0) / s.wall_seconds END
                                                                     AS throughput_rows_per_sec,
       CASE WHEN o.stmt_seconds > 0 THEN o.stmt_rows / o.stmt_seconds END
                                                                     AS insert_speed_rows_per_sec,
       CASE WHEN o.stmt_rows > 0 THEN o.stmt_seconds * 1000000.0 / o.stmt_rows END
                                                                     AS insert_ms_per_1000_rows,
       CASE WHEN h.validation_n > 0 THEN h.validation_rejected END   AS validation_rejected,
       CASE WHEN h.validation_rows > 0
            THEN 100.0 * h.validation_rejected / h.validation_rows::double precision
       END                                                           AS validation_rejection_rate,
       -- hmperf's samples that could not count refusals, and every sample of
       -- the service's writes (PostgreSQL keeps no count of refused rows).
       (coalesce(h.samples - h.failures_n, 0) + coalesce(o.samples, 0))::bigint
                                                                     AS failures_unobserved
  FROM (SELECT * FROM hmperf.constraint_performance_hourly
         WHERE hour_bucket >= date_trunc('hour', now() - interval '48 hours')) h
  FULL JOIN (SELECT * FROM hmperf.observed_writes_hourly
              WHERE hour_bucket >= date_trunc('hour', now() - interval '48 hours')) o
    ON o.hour_bucket = h.hour_bucket AND o.table_name = h.table_name
  LEFT JOIN hmperf.observed_sample_hours s ON s.hour_bucket = coalesce(h.hour_bucket, o.hour_bucket);

COMMENT ON VIEW real_time_constraint_performance IS
    'Per table and hour (last 48 h): rows, rows/s, ms per 1000 rows, average constraint overhead %, constraint failures (rows PostgreSQL refused, class 23; NULL where not observable), cache hit rate %, records rejected by validation and their share of the records validated, and the samples whose refusals could not be observed.';

ALTER TABLE constraint_alert_thresholds
    DROP CONSTRAINT constraint_alert_thresholds_metric_check,
    ADD CONSTRAINT constraint_alert_thresholds_metric_check
        CHECK (metric IN ('overhead_pct', 'failures_per_hour', 'cache_hit_rate_pct', 'validation_rejection_pct'));

UPDATE constraint_alert_thresholds
   SET description = 'More than 5 rows refused by a database constraint in an hour'
 WHERE alert_name = 'constraint_failures_warning';

INSERT INTO constraint_alert_thresholds (alert_name, metric, comparison, threshold, severity, description) VALUES
    ('validation_rejections_high', 'validation_rejection_pct', '>', 10, 'WARNING',
     'More than 10% of ingested records rejected by validation in an hour (bad input, not the database)');

CREATE OR REPLACE FUNCTION check_constraint_performance_alerts()
RETURNS TABLE (
    alert_name   text,
    severity     text,
    table_name   text,
    observed     double precision,
    threshold    double precision,
    firing_since timestamptz,
    message      text
)
LANGUAGE plpgsql STABLE
SET jit = off AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH obs AS (
        SELECT t.alert_name, t.metric, t.severity, t.comparison, t.threshold, t.description,
               p.table_name, p.hour_bucket,
               CASE t.metric
                    WHEN 'overhead_pct'             THEN p.constraint_overhead_pct
                    WHEN 'failures_per_hour'        THEN p.failures::double precision
                    WHEN 'cache_hit_rate_pct'       THEN p.cache_hit_rate
                    WHEN 'validation_rejection_pct' THEN p.validation_rejection_rate
               END AS observed
          FROM constraint_alert_thresholds t
          CROSS JOIN real_time_constraint_performance p
         WHERE t.enabled
    ), ranked AS (
        SELECT o.*,
               row_number() OVER w         AS rn,
               first_value(o.hour_bucket) OVER w AS latest
          FROM obs o
         WHERE o.observed IS NOT NULL
        WINDOW w AS (PARTITION BY o.alert_name, o.table_name ORDER BY o.hour_bucket DESC)
    ), runs AS (
        SELECT r.*,
               ((CASE r.comparison WHEN '>' THEN r.observed > r.threshold
                                   ELSE r.observed < r.threshold END)
                AND r.hour_bucket = r.latest - (r.rn - 1) * interval '1 hour') AS in_run
          FROM ranked r
    ), firing AS (
        SELECT r.alert_name, r.table_name,
               coalesce(min(r.rn) FILTER (WHERE NOT r.in_run) - 1, count(*)) AS run_length
          FROM runs r
         GROUP BY r.alert_name, r.table_name
    )
    SELECT r.alert_name,
           r.severity,
           r.table_name,
           r.observed,
           r.threshold,
           r.hour_bucket - (f.run_length - 1) * interval '1 hour' AS firing_since,
           format('%s: %s on %s: %s = %s (threshold %s %s), firing since %s',
                  r.severity, coalesce(r.description, r.alert_name), r.table_name, r.metric,
                  round(r.observed::numeric, 2), r.comparison, r.threshold,
                  r.hour_bucket - (f.run_length - 1) * interval '1 hour')
      FROM runs r
      JOIN firing f ON f.alert_name = r.alert_name AND f.table_name = r.table_name
     WHERE r.rn = 1
       AND r.in_run
       AND r.hour_bucket >= date_trunc('hour', now()) - interval '1 hour'
     ORDER BY CASE r.severity WHEN 'CRITICAL' THEN 0 ELSE 1 END, r.table_name, r.alert_name;
END;
$$;

COMMIT;
