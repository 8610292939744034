-- 0037_hmperf_ingest_blocker_alerts: alerts for what blocks ingest, in the
-- same thresholds table and function as every other alert, with the
-- thresholds most shops use:
--
--   * a session idle in transaction over 300 s WARNING, 900 s CRITICAL
--     (it holds its locks and the xmin horizon);
--   * a session waiting on a lock over 30 s WARNING, 120 s CRITICAL;
--   * client connections over 75% / 90% of max_connections;
--   * transaction ID age of a database over 50% / 75% of wraparound (2^31).
--
-- They read pg_stat_activity, pg_locks and pg_database: a role without
-- pg_monitor (pg_read_all_stats) does not see other roles' session states,
-- so for it the session alerts of those roles cannot fire. hmperf's own
-- sessions never fire them. The function is 0031's with these rows added.
-- It creates no object of its own; its threshold rows tell it is in place.
-- probe: SELECT EXISTS (SELECT FROM constraint_alert_thresholds WHERE metric = 'lock_wait_seconds')
BEGIN;

ALTER TABLE constraint_alert_thresholds
    DROP CONSTRAINT constraint_alert_thresholds_metric_check,
    ADD CONSTRAINT constraint_alert_thresholds_metric_check
        CHECK (metric IN ('overhead_pct', 'failures_per_hour', 'cache_hit_rate_pct', 'validation_rejection_pct',
                          'replication_lag_bytes', 'replication_lag_seconds',
                          'idle_in_transaction_seconds', 'lock_wait_seconds', 'connections_pct', 'xid_age_pct'));

INSERT INTO constraint_alert_thresholds (alert_name, metric, comparison, threshold, severity, description) VALUES
    ('idle_in_transaction_warning',  'idle_in_transaction_seconds', '>', 300, 'WARNING',  'Session idle in transaction over 5 minutes'),
    ('idle_in_transaction_critical', 'idle_in_transaction_seconds', '>', 900, 'CRITICAL', 'Session idle in transaction over 15 minutes'),
    ('lock_wait_warning',            'lock_wait_seconds',           '>', 30,  'WARNING',  'Session waiting on a lock over 30 seconds'),
    ('lock_wait_critical',           'lock_wait_seconds',           '>', 120, 'CRITICAL', 'Session waiting on a lock over 120 seconds'),
    ('connections_warning',          'connections_pct',             '>', 75,  'WARNING',  'Client connections over 75% of max_connections'),
    ('connections_critical',         'connections_pct',             '>', 90,  'CRITICAL', 'Client connections over 90% of max_connections'),
    ('xid_wraparound_warning',       'xid_age_pct',                 '>', 50,  'WARNING',  'Transaction ID age over 50% of wraparound'),
    ('xid_wraparound_critical',      'xid_age_pct',                 '>', 75,  'CRITICAL', 'Transaction ID age over 75% of wraparound');

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
    SELECT a.* FROM (
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
           -- What hmperf measured in its own schemas (generated rows in the
           -- sandbox, benchmarks on scratch copies) is its own finding, not
           -- the service's state: shown on the Constraints panel, never a
           -- page.
           AND p.table_name NOT LIKE 'hmperf\_%.%'
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
    ), lag AS (
        -- WAL positions by CASE: pg_current_wal_lsn() fails during
        -- recovery, and a (cascading) replica sends what it has replayed.
        SELECT coalesce(nullif(r.application_name, ''), r.client_addr::text, r.pid::text) AS standby,
               pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END,
                               r.replay_lsn)::double precision AS lag_bytes,
               extract(epoch FROM r.replay_lag)::double precision AS lag_seconds
          FROM pg_stat_replication r
        UNION ALL
        SELECT s.slot_name::text,
               pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END,
                               s.restart_lsn)::double precision,
               NULL::double precision
          FROM pg_replication_slots s
         WHERE s.slot_type = 'physical' AND NOT s.active AND s.restart_lsn IS NOT NULL
        UNION ALL
        -- This replica itself. Without pg_read_all_stats the receiver's
        -- status reads NULL: assume streaming rather than report an idle
        -- primary as lag.
        SELECT coalesce(nullif(current_setting('cluster_name'), ''), 'this replica'),
               pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::double precision,
               CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()
                     AND (NOT pg_has_role('pg_read_all_stats', 'USAGE')
                          OR EXISTS (SELECT FROM pg_stat_wal_receiver w WHERE w.status = 'streaming'))
                    THEN 0
                    ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())::double precision END
         WHERE pg_is_in_recovery()
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
    UNION ALL
    -- Replication lag, per standby on a primary and of this server on a
    -- replica: a state observed now, not an hourly series, so it fires now.
    -- A lag in seconds has been above its threshold since the moment it
    -- crossed it; one in bytes cannot say when, and fires since now.
    SELECT l.alert_name, l.severity, l.table_name, l.observed, l.threshold,
           CASE l.metric WHEN 'replication_lag_seconds'
                THEN now() - make_interval(secs => l.observed - l.threshold)
                ELSE now() END,
           format('%s: %s of %s: %s = %s (threshold %s %s)',
                  l.severity, coalesce(l.description, l.alert_name), l.table_name, l.metric,
                  round(l.observed::numeric, 2), l.comparison, l.threshold)
      FROM (SELECT t.alert_name, t.severity, t.metric, t.comparison, t.threshold, t.description,
                   'standby ' || g.standby AS table_name,
                   CASE t.metric WHEN 'replication_lag_bytes'   THEN g.lag_bytes
                                 WHEN 'replication_lag_seconds' THEN g.lag_seconds END AS observed
              FROM constraint_alert_thresholds t
             CROSS JOIN lag g
             WHERE t.enabled
               AND t.metric IN ('replication_lag_bytes', 'replication_lag_seconds')) l
     WHERE l.observed IS NOT NULL
       AND CASE l.comparison WHEN '>' THEN l.observed > l.threshold ELSE l.observed < l.threshold END
    UNION ALL
    -- What blocks ingest now, from the sessions and the cluster: a state
    -- observed now, as the lag. A session's wait has been over its
    -- threshold since the moment it crossed it. hmperf's own sessions
    -- (application_name "hmperf ...") are its finding, never a page.
    SELECT t.alert_name, t.severity, s.subject, s.observed, t.threshold,
           CASE WHEN s.since IS NOT NULL THEN s.since + make_interval(secs => t.threshold) ELSE now() END,
           format('%s: %s: %s = %s (threshold %s %s)',
                  t.severity, coalesce(t.description, t.alert_name), s.subject, t.metric,
                  round(s.observed::numeric, 2), t.comparison, t.threshold)
      FROM constraint_alert_thresholds t
      JOIN (
            SELECT 'idle_in_transaction_seconds' AS metric,
                   format('session %s (%s)', a.pid, coalesce(nullif(a.application_name, ''), a.usename::text, '?')) AS subject,
                   extract(epoch FROM now() - a.state_change)::double precision AS observed,
                   a.state_change AS since
              FROM pg_stat_activity a
             WHERE a.state IN ('idle in transaction', 'idle in transaction (aborted)')
               AND a.application_name NOT LIKE 'hmperf%'
            UNION ALL
            -- pg_locks.waitstart exists from PostgreSQL 14 (read through
            -- jsonb so that the function compiles on 13); before it, the
            -- statement's start bounds the wait from above.
            SELECT 'lock_wait_seconds',
                   format('session %s (%s)', a.pid, coalesce(nullif(a.application_name, ''), a.usename::text, '?')),
                   extract(epoch FROM now() - coalesce(w.waitstart, a.query_start))::double precision,
                   coalesce(w.waitstart, a.query_start)
              FROM pg_stat_activity a
              LEFT JOIN LATERAL (
                    SELECT min((to_jsonb(l) ->> 'waitstart')::timestamptz) AS waitstart
                      FROM pg_locks l
                     WHERE l.pid = a.pid AND NOT l.granted
                   ) w ON true
             WHERE a.wait_event_type = 'Lock'
               AND a.application_name NOT LIKE 'hmperf%'
            UNION ALL
            SELECT 'connections_pct', 'server',
                   100.0 * count(*) / current_setting('max_connections')::int, NULL
              FROM pg_stat_activity a
             WHERE a.backend_type = 'client backend'
            UNION ALL
            -- Wraparound comes at 2^31 transactions of age.
            SELECT 'xid_age_pct', format('database %s', d.datname),
                   100.0 * age(d.datfrozenxid) / 2147483648.0, NULL
              FROM pg_database d
           ) s ON s.metric = t.metric
     WHERE t.enabled
       AND s.observed IS NOT NULL
       AND CASE t.comparison WHEN '>' THEN s.observed > t.threshold ELSE s.observed < t.threshold END
    ) a
     ORDER BY CASE a.severity WHEN 'CRITICAL' THEN 0 ELSE 1 END, a.table_name, a.alert_name;
END;
$$;

COMMIT;
