BEGIN;
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
LANGUAGE sql STABLE AS $$
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
$$;
CREATE OR REPLACE VIEW real_time_constraint_performance AS
SELECT m.table_name,
       date_trunc('hour', m.measured_at)                      AS hour_bucket,
       count(*)                                               AS samples,
       sum(m.rows)::bigint                                    AS rows,
       sum(m.seconds)                                         AS seconds,
       CASE WHEN sum(m.seconds) > 0 THEN sum(m.rows) / sum(m.seconds) END
                                                              AS rows_per_sec,
       CASE WHEN sum(m.rows) > 0 THEN sum(m.seconds) * 1000000.0 / sum(m.rows) END
                                                              AS ms_per_1000_rows,
       avg(m.constraint_overhead_pct)                         AS constraint_overhead_pct,
       sum(m.failures)::bigint                                AS failures,
       CASE WHEN sum(m.cache_hits + m.cache_misses) > 0
            THEN (100.0 * sum(m.cache_hits) / sum(m.cache_hits + m.cache_misses))::double precision
       END                                                    AS cache_hit_rate
  FROM constraint_performance_monitor m
 WHERE m.measured_at >= now() - interval '48 hours'
 GROUP BY m.table_name, date_trunc('hour', m.measured_at);
DROP TRIGGER IF EXISTS constraint_performance_rollup_insert ON constraint_performance_monitor;
DROP TRIGGER IF EXISTS constraint_performance_rollup_update ON constraint_performance_monitor;
DROP TRIGGER IF EXISTS constraint_performance_rollup_delete ON constraint_performance_monitor;
DROP FUNCTION IF EXISTS hmperf.constraint_performance_rollup_insert();
DROP FUNCTION IF EXISTS hmperf.constraint_performance_rollup_change();
DROP TABLE IF EXISTS hmperf.constraint_performance_hourly;
COMMIT;
