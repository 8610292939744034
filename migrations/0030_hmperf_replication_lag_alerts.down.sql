-- 0030 down: the lag thresholds go; the alert function is 0029's again.
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
           -- Generated rows in the sandbox are hmperf's test data, not the
           -- service's: they show on the Constraints panel but never page.
           AND p.table_name NOT LIKE 'hmperf\_sandbox.%'
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

DELETE FROM constraint_alert_thresholds WHERE metric IN ('replication_lag_bytes', 'replication_lag_seconds');
ALTER TABLE constraint_alert_thresholds
    DROP CONSTRAINT constraint_alert_thresholds_metric_check,
    ADD CONSTRAINT constraint_alert_thresholds_metric_check
        CHECK (metric IN ('overhead_pct', 'failures_per_hour', 'cache_hit_rate_pct', 'validation_rejection_pct'));

COMMIT;
