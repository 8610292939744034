-- 0027 down: failures mean every record ingest rejected again, as 0023
-- defined them; the split counts and the validation alert go.
BEGIN;

DELETE FROM constraint_alert_thresholds WHERE alert_name = 'validation_rejections_high';
UPDATE constraint_alert_thresholds
   SET description = 'More than 5 constraint failures in an hour'
 WHERE alert_name = 'constraint_failures_warning';
ALTER TABLE constraint_alert_thresholds
    DROP CONSTRAINT constraint_alert_thresholds_metric_check,
    ADD CONSTRAINT constraint_alert_thresholds_metric_check
        CHECK (metric IN ('overhead_pct', 'failures_per_hour', 'cache_hit_rate_pct'));

-- A view loses columns only by being dropped (and with it the grants on it).
DROP VIEW real_time_constraint_performance;

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
                    WHEN 'overhead_pct'       THEN p.constraint_overhead_pct
                    WHEN 'failures_per_hour'  THEN p.failures::double precision
                    WHEN 'cache_hit_rate_pct' THEN p.cache_hit_rate
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

CREATE OR REPLACE FUNCTION hmperf.monitor_ingest_batch_stats() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO constraint_performance_monitor
           (table_name, measured_at, source, source_ref, rows, seconds,
            constraint_overhead_pct, failures, cache_hits, cache_misses)
    SELECT b.table_name, b.recorded_at, 'ingest', b.id, b.received,
           (b.validate_ms + b.dedup_ms + b.write_ms) / 1000.0,
           NULL, b.rejected, b.cache_hits, b.cache_misses
      FROM new_rows b;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION hmperf.constraint_performance_rollup_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO hmperf.constraint_performance_hourly AS h
           (table_name, hour_bucket, samples, rows, seconds, overhead_sum, overhead_n,
            failures, cache_hits, cache_misses)
    SELECT m.table_name, date_trunc('hour', m.measured_at),
           count(*), sum(m.rows)::bigint, sum(m.seconds),
           coalesce(sum(m.constraint_overhead_pct), 0), count(m.constraint_overhead_pct),
           sum(m.failures)::bigint, sum(m.cache_hits)::bigint, sum(m.cache_misses)::bigint
      FROM new_rows m
     GROUP BY 1, 2
    ON CONFLICT (hour_bucket, table_name) DO UPDATE
       SET samples      = h.samples      + EXCLUDED.samples,
           rows         = h.rows         + EXCLUDED.rows,
           seconds      = h.seconds      + EXCLUDED.seconds,
           overhead_sum = h.overhead_sum + EXCLUDED.overhead_sum,
           overhead_n   = h.overhead_n   + EXCLUDED.overhead_n,
           failures     = h.failures     + EXCLUDED.failures,
           cache_hits   = h.cache_hits   + EXCLUDED.cache_hits,
           cache_misses = h.cache_misses + EXCLUDED.cache_misses;
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
                    failures, cache_hits, cache_misses)
            SELECT m.table_name, date_trunc('hour', m.measured_at),
                   %1$s * count(*), %1$s * sum(m.rows)::bigint, %1$s * sum(m.seconds),
                   %1$s * coalesce(sum(m.constraint_overhead_pct), 0), %1$s * count(m.constraint_overhead_pct),
                   %1$s * sum(m.failures)::bigint, %1$s * sum(m.cache_hits)::bigint, %1$s * sum(m.cache_misses)::bigint
              FROM %2$I m
             GROUP BY 1, 2
            ON CONFLICT (hour_bucket, table_name) DO UPDATE
               SET samples      = h.samples      + EXCLUDED.samples,
                   rows         = h.rows         + EXCLUDED.rows,
                   seconds      = h.seconds      + EXCLUDED.seconds,
                   overhead_sum = h.overhead_sum + EXCLUDED.overhead_sum,
                   overhead_n   = h.overhead_n   + EXCLUDED.overhead_n,
                   failures     = h.failures     + EXCLUDED.failures,
                   cache_hits   = h.cache_hits   + EXCLUDED.cache_hits,
                   cache_misses = h.cache_misses + EXCLUDED.cache_misses
            $sql$, side.sign, side.rel);
    END LOOP;
    DELETE FROM hmperf.constraint_performance_hourly WHERE samples = 0;
    RETURN NULL;
END;
$$;

ALTER TABLE constraint_performance_monitor DISABLE TRIGGER constraint_performance_rollup_update;
UPDATE constraint_performance_monitor m
   SET failures = b.rejected
  FROM hmperf.ingest_batch_stats b
 WHERE m.source = 'ingest' AND b.id = m.source_ref;
UPDATE constraint_performance_monitor SET failures = 0 WHERE failures IS NULL;
ALTER TABLE constraint_performance_monitor ENABLE TRIGGER constraint_performance_rollup_update;

ALTER TABLE hmperf.constraint_performance_hourly
    DROP COLUMN failures_n,
    DROP COLUMN validation_rejected,
    DROP COLUMN validation_rows,
    DROP COLUMN validation_n;
TRUNCATE hmperf.constraint_performance_hourly;
INSERT INTO hmperf.constraint_performance_hourly
SELECT table_name, date_trunc('hour', measured_at), count(*), sum(rows)::bigint, sum(seconds),
       coalesce(sum(constraint_overhead_pct), 0), count(constraint_overhead_pct),
       sum(failures)::bigint, sum(cache_hits)::bigint, sum(cache_misses)::bigint
  FROM constraint_performance_monitor
 GROUP BY 1, 2;

COMMENT ON COLUMN constraint_performance_monitor.failures IS NULL;
ALTER TABLE constraint_performance_monitor
    DROP CONSTRAINT constraint_performance_monitor_validation_check,
    DROP COLUMN validation_rejected,
    ALTER COLUMN failures SET DEFAULT 0,
    ALTER COLUMN failures SET NOT NULL;

ALTER TABLE hmperf.ingest_batch_stats
    DROP CONSTRAINT ingest_batch_stats_rejected_split_check,
    DROP COLUMN constraint_failures,
    DROP COLUMN validation_rejected;

-- Recreated last: 0025's view selects * from the hourly table, so it must
-- not exist while 0027's columns are dropped from it.
CREATE VIEW real_time_constraint_performance AS
SELECT coalesce(h.table_name, o.table_name)                          AS table_name,
       coalesce(h.hour_bucket, o.hour_bucket)                        AS hour_bucket,
       (coalesce(h.samples, 0) + coalesce(o.samples, 0))::bigint     AS samples,
       (coalesce(h.rows, 0) + coalesce(o.rows, 0))::bigint           AS rows,
       h.seconds                                                     AS seconds,
       CASE WHEN h.seconds > 0 THEN h.rows / h.seconds END           AS rows_per_sec,
       CASE WHEN h.rows > 0 THEN h.seconds * 1000000.0 / h.rows END  AS ms_per_1000_rows,
       CASE WHEN h.overhead_n > 0 THEN h.overhead_sum / h.overhead_n END
                                                                     AS constraint_overhead_pct,
       h.failures                                                    AS failures,
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
                                                                     AS insert_ms_per_1000_rows
  FROM (SELECT * FROM hmperf.constraint_performance_hourly
         WHERE hour_bucket >= date_trunc('hour', now() - interval '48 hours')) h
  FULL JOIN (SELECT * FROM hmperf.observed_writes_hourly
              WHERE hour_bucket >= date_trunc('hour', now() - interval '48 hours')) o
    ON o.hour_bucket = h.hour_bucket AND o.table_name = h.table_name
  LEFT JOIN hmperf.observed_sample_hours s ON s.hour_bucket = coalesce(h.hour_bucket, o.hour_bucket);

COMMENT ON VIEW real_time_constraint_performance IS
    'Per table and hour (last 48 h): rows (hmperf''s timed writes plus the service''s observed rows), rows/s and ms per 1000 rows of hmperf''s timed writes, average constraint overhead %, constraint failures, cache hit rate %; observed_rows, rolled_back_rows, throughput (rows/s of wall time) and insert speed (rows/s while statements ran) of the service''s writes sampled from the statistics views.';

COMMIT;
