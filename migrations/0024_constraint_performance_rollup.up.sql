-- 0024_constraint_performance_rollup (hmperf): real_time_constraint_performance
-- re-aggregated 48 hours of constraint_performance_monitor on every read, and
-- the dashboard and check_constraint_performance_alerts() read it on every
-- poll. A busy ingest writes several monitor rows a second, so a poll grew to
-- hundreds of milliseconds within hours. The view now reads hourly sums kept
-- current by statement-level triggers on the monitor table (one upsert per
-- statement, not per row, and never on the metric tables' insert path).
BEGIN;

CREATE TABLE hmperf.constraint_performance_hourly (
    table_name   text             NOT NULL,
    hour_bucket  timestamptz      NOT NULL,
    samples      bigint           NOT NULL,
    rows         bigint           NOT NULL,
    seconds      double precision NOT NULL,
    overhead_sum double precision NOT NULL,
    overhead_n   bigint           NOT NULL,
    failures     bigint           NOT NULL,
    cache_hits   bigint           NOT NULL,
    cache_misses bigint           NOT NULL,
    PRIMARY KEY (hour_bucket, table_name)
);

COMMENT ON TABLE hmperf.constraint_performance_hourly IS
    'Hourly sums of constraint_performance_monitor per table, kept by triggers on it; real_time_constraint_performance reads these.';

-- constraint_performance_rollup_insert folds the statement's new monitor
-- rows into the hourly sums. It is the hot path (one call per ingest batch),
-- so its SQL is static and its plan is kept for the session.
CREATE FUNCTION hmperf.constraint_performance_rollup_insert() RETURNS trigger
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

-- constraint_performance_rollup_change handles the rare changes (the
-- overhead a later benchmark result fills in, retention deletes): the old
-- rows are taken out of the sums and the new ones, if any, added. The
-- transition table is named in a dynamic statement so that one statement
-- serves both sides.
CREATE FUNCTION hmperf.constraint_performance_rollup_change() RETURNS trigger
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

CREATE TRIGGER constraint_performance_rollup_insert
    AFTER INSERT ON constraint_performance_monitor
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION hmperf.constraint_performance_rollup_insert();
CREATE TRIGGER constraint_performance_rollup_update
    AFTER UPDATE ON constraint_performance_monitor
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION hmperf.constraint_performance_rollup_change();
CREATE TRIGGER constraint_performance_rollup_delete
    AFTER DELETE ON constraint_performance_monitor
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION hmperf.constraint_performance_rollup_change();

INSERT INTO hmperf.constraint_performance_hourly
SELECT table_name, date_trunc('hour', measured_at), count(*), sum(rows)::bigint, sum(seconds),
       coalesce(sum(constraint_overhead_pct), 0), count(constraint_overhead_pct),
       sum(failures)::bigint, sum(cache_hits)::bigint, sum(cache_misses)::bigint
  FROM constraint_performance_monitor
 GROUP BY 1, 2;

-- Same columns and types as 0023's view. One difference: the oldest hour is
-- counted whole instead of from exactly 48 hours ago.
CREATE OR REPLACE VIEW real_time_constraint_performance AS
SELECT h.table_name,
       h.hour_bucket,
       h.samples,
       h.rows,
       h.seconds,
       CASE WHEN h.seconds > 0 THEN h.rows / h.seconds END   AS rows_per_sec,
       CASE WHEN h.rows > 0 THEN h.seconds * 1000000.0 / h.rows END
                                                             AS ms_per_1000_rows,
       CASE WHEN h.overhead_n > 0 THEN h.overhead_sum / h.overhead_n END
                                                             AS constraint_overhead_pct,
       h.failures,
       CASE WHEN h.cache_hits + h.cache_misses > 0
            THEN 100.0 * h.cache_hits / (h.cache_hits + h.cache_misses)::double precision
       END                                                   AS cache_hit_rate
  FROM hmperf.constraint_performance_hourly h
 WHERE h.hour_bucket >= date_trunc('hour', now() - interval '48 hours');

-- The alert check, same query, as PL/pgSQL: a SQL function with a SET
-- clause is planned afresh on every call, while PL/pgSQL keeps its plan for
-- the session (the dashboard polls on pooled connections). JIT is off: the
-- planner overestimates the query (its thresholds table is too small for
-- autovacuum to analyze) and spent about 50 ms compiling a query that runs in
-- a few.
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

COMMIT;
