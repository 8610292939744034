-- 0023_activity_metrics_constraint_monitoring (report issue 6, seed-facts §6.4).
--
-- The report's claim: replacing the 15 range CHECKs of activity_metrics_v2 by
-- one "batched validation" function cuts constraint overhead by ~40% (never
-- measured), plus real-time monitoring and alerting. This migration builds:
--
--   * activity_metrics_v2_optimized: the columns, PK, partitioning, DEFAULT
--     partition and indexes of activity_metrics_v2; the 15 range CHECKs are
--     replaced by ONE row trigger function validate_activity_metrics_v2_optimized()
--     (BEFORE INSERT OR UPDATE, FOR EACH ROW). The inline aggregation_period
--     CHECK stays a CHECK (the report only replaced the 15 range checks);
--   * activity_metrics_v2_unconstrained: the benchmark floor (no CHECK, no
--     trigger; PK, FK, NOT NULL, partitioning and indexes kept);
--   * benchmark_activity_constraint_performance(n);
--   * constraint_performance_monitor, fed from hmperf's ingest_batch_stats and
--     benchmark_results by statement-level AFTER INSERT triggers on THOSE
--     tables -- never by a trigger on the metric tables, so the insert path of
--     the data pays nothing for monitoring (the report's "1% sampling" row
--     triggers still fire on every row and write to a hot table: seed-facts
--     §10.3);
--   * real_time_constraint_performance (hourly hour_bucket over the last 48 h),
--     constraint_alert_thresholds (the report's thresholds, editable) and
--     check_constraint_performance_alerts().
--
-- Deviations / notes:
--   * A row trigger cannot "batch" anything: it runs once per row, like the
--     CHECKs it replaces, and adds a PL/pgSQL call per row (seed-facts §10.2).
--     hmperf measures it. The trigger raises 23514 check_violation naming the
--     ORIGINAL constraint (e.g. activity_v2_step_count_check) and the column,
--     so its verdicts and error mapping equal the original's.
--   * constraint_performance_monitor has an extra column source_ref: the id of
--     the ingest_batch_stats or benchmark_results row it came from.
--   * Benchmark rows: benchmark_results.table_name is the family's original
--     table (nutrition_metrics, symptoms, activity_metrics_v2) and variant
--     says which twin ran; the monitor's table_name is the table that really
--     ran (<table>, <table>_optimized, <table>_unconstrained; a table_name
--     that already carries the suffix is taken as is).
--     constraint_overhead_pct = (t - t_unconstrained) / t * 100 against the
--     unconstrained result of the same run, rep and family, whichever of the
--     two is inserted first (a later unconstrained row fills in the earlier
--     rows' overhead). Ingest rows have no baseline: their overhead is NULL.
--   * check_constraint_performance_alerts() returns one row per firing alert
--     and table. When the WARNING and the CRITICAL overhead thresholds both
--     fire for a table, BOTH rows are returned (each with its own threshold
--     and firing_since); callers take the highest severity. An alert fires
--     when the table's latest hour bucket having a value for the metric is
--     the current or the previous hour and breaches the threshold;
--     firing_since is the start of the earliest bucket of the unbroken run of
--     consecutive breaching hourly buckets ending at that latest bucket. A
--     bucket without a value for the metric (e.g. no cache counters) does not
--     count as breaching.
--   * The cache hit rate alert uses the Go validation cache's counters that
--     ingest writes into ingest_batch_stats (cache_hits, cache_misses).
BEGIN;

CREATE TABLE activity_metrics_v2_optimized (
    id                                   bigserial,
    user_id                              uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    recorded_at                          timestamptz NOT NULL,
    step_count                           integer,
    flights_climbed                      integer,
    distance_walking_running_meters      numeric(10,2),
    distance_cycling_meters              numeric(10,2),
    distance_swimming_meters             numeric(10,2),
    distance_wheelchair_meters           numeric(10,2),
    distance_downhill_snow_sports_meters numeric(10,2),
    push_count                           integer,
    swimming_stroke_count                integer,
    nike_fuel                            numeric(8,2),
    active_energy_burned_kcal            numeric(8,2),
    basal_energy_burned_kcal             numeric(8,2),
    exercise_time_minutes                integer,
    stand_time_minutes                   integer,
    move_time_minutes                    integer,
    stand_hour_achieved                  boolean     DEFAULT false,
    source                               varchar(100),
    raw_data                             jsonb,
    aggregation_period                   varchar(20) DEFAULT 'hourly',
    created_at                           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT activity_metrics_v2_optimized_pkey PRIMARY KEY (user_id, recorded_at),
    CONSTRAINT activity_metrics_v2_optimized_aggregation_period_check
        CHECK (aggregation_period IN ('minute', 'hourly', 'daily', 'weekly'))
) PARTITION BY RANGE (recorded_at);

CREATE TABLE activity_metrics_v2_optimized_default PARTITION OF activity_metrics_v2_optimized DEFAULT;

CREATE INDEX idx_activity_v2_opt_recorded_at_brin ON activity_metrics_v2_optimized USING brin (recorded_at);
CREATE INDEX idx_activity_v2_opt_user_aggregation ON activity_metrics_v2_optimized (user_id, aggregation_period);

CREATE FUNCTION validate_activity_metrics_v2_optimized() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_col text;
    v_con text;
    v_hi  numeric;
    v_val numeric;
BEGIN
    -- The 15 range rules of activity_metrics_v2 (NULL passes, as in a CHECK).
    -- The first failing column, in table order, is reported.
    IF NEW.step_count < 0 OR NEW.step_count > 200000 THEN
        v_col := 'step_count'; v_con := 'activity_v2_step_count_check'; v_hi := 200000; v_val := NEW.step_count;
    ELSIF NEW.flights_climbed < 0 OR NEW.flights_climbed > 10000 THEN
        v_col := 'flights_climbed'; v_con := 'activity_v2_flights_climbed_check'; v_hi := 10000; v_val := NEW.flights_climbed;
    ELSIF NEW.distance_walking_running_meters < 0 OR NEW.distance_walking_running_meters > 500000 THEN
        v_col := 'distance_walking_running_meters'; v_con := 'activity_v2_distance_walking_running_check'; v_hi := 500000; v_val := NEW.distance_walking_running_meters;
    ELSIF NEW.distance_cycling_meters < 0 OR NEW.distance_cycling_meters > 1000000 THEN
        v_col := 'distance_cycling_meters'; v_con := 'activity_v2_distance_cycling_check'; v_hi := 1000000; v_val := NEW.distance_cycling_meters;
    ELSIF NEW.distance_swimming_meters < 0 OR NEW.distance_swimming_meters > 50000 THEN
        v_col := 'distance_swimming_meters'; v_con := 'activity_v2_distance_swimming_check'; v_hi := 50000; v_val := NEW.distance_swimming_meters;
    ELSIF NEW.distance_wheelchair_meters < 0 OR NEW.distance_wheelchair_meters > 500000 THEN
        v_col := 'distance_wheelchair_meters'; v_con := 'activity_v2_distance_wheelchair_check'; v_hi := 500000; v_val := NEW.distance_wheelchair_meters;
    ELSIF NEW.distance_downhill_snow_sports_meters < 0 OR NEW.distance_downhill_snow_sports_meters > 200000 THEN
        v_col := 'distance_downhill_snow_sports_meters'; v_con := 'activity_v2_distance_snow_sports_check'; v_hi := 200000; v_val := NEW.distance_downhill_snow_sports_meters;
    ELSIF NEW.push_count < 0 OR NEW.push_count > 50000 THEN
        v_col := 'push_count'; v_con := 'activity_v2_push_count_check'; v_hi := 50000; v_val := NEW.push_count;
    ELSIF NEW.swimming_stroke_count < 0 OR NEW.swimming_stroke_count > 100000 THEN
        v_col := 'swimming_stroke_count'; v_con := 'activity_v2_swimming_stroke_count_check'; v_hi := 100000; v_val := NEW.swimming_stroke_count;
    ELSIF NEW.nike_fuel < 0 OR NEW.nike_fuel > 50000 THEN
        v_col := 'nike_fuel'; v_con := 'activity_v2_nike_fuel_check'; v_hi := 50000; v_val := NEW.nike_fuel;
    ELSIF NEW.active_energy_burned_kcal < 0 OR NEW.active_energy_burned_kcal > 20000 THEN
        v_col := 'active_energy_burned_kcal'; v_con := 'activity_v2_active_energy_check'; v_hi := 20000; v_val := NEW.active_energy_burned_kcal;
    ELSIF NEW.basal_energy_burned_kcal < 0 OR NEW.basal_energy_burned_kcal > 10000 THEN
        v_col := 'basal_energy_burned_kcal'; v_con := 'activity_v2_basal_energy_check'; v_hi := 10000; v_val := NEW.basal_energy_burned_kcal;
    ELSIF NEW.exercise_time_minutes < 0 OR NEW.exercise_time_minutes > 1440 THEN
        v_col := 'exercise_time_minutes'; v_con := 'activity_v2_exercise_time_check'; v_hi := 1440; v_val := NEW.exercise_time_minutes;
    ELSIF NEW.stand_time_minutes < 0 OR NEW.stand_time_minutes > 1440 THEN
        v_col := 'stand_time_minutes'; v_con := 'activity_v2_stand_time_check'; v_hi := 1440; v_val := NEW.stand_time_minutes;
    ELSIF NEW.move_time_minutes < 0 OR NEW.move_time_minutes > 1440 THEN
        v_col := 'move_time_minutes'; v_con := 'activity_v2_move_time_check'; v_hi := 1440; v_val := NEW.move_time_minutes;
    END IF;

    IF v_col IS NOT NULL THEN
        RAISE EXCEPTION 'new row for relation "%" violates check constraint "%"', TG_TABLE_NAME, v_con
            USING ERRCODE = 'check_violation',
                  DETAIL = format('%s = %s is outside [0, %s]', v_col, v_val, v_hi),
                  COLUMN = v_col,
                  CONSTRAINT = v_con,
                  TABLE = TG_TABLE_NAME,
                  SCHEMA = TG_TABLE_SCHEMA;
    END IF;
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION validate_activity_metrics_v2_optimized() IS
    'BEFORE INSERT OR UPDATE row trigger of activity_metrics_v2_optimized: the 15 range rules of activity_metrics_v2 in one function. Raises 23514 with the original constraint name and the column.';

CREATE TRIGGER validate_activity_metrics_v2_optimized
    BEFORE INSERT OR UPDATE ON activity_metrics_v2_optimized
    FOR EACH ROW EXECUTE FUNCTION validate_activity_metrics_v2_optimized();

CREATE TABLE activity_metrics_v2_unconstrained (
    id                                   bigserial,
    user_id                              uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    recorded_at                          timestamptz NOT NULL,
    step_count                           integer,
    flights_climbed                      integer,
    distance_walking_running_meters      numeric(10,2),
    distance_cycling_meters              numeric(10,2),
    distance_swimming_meters             numeric(10,2),
    distance_wheelchair_meters           numeric(10,2),
    distance_downhill_snow_sports_meters numeric(10,2),
    push_count                           integer,
    swimming_stroke_count                integer,
    nike_fuel                            numeric(8,2),
    active_energy_burned_kcal            numeric(8,2),
    basal_energy_burned_kcal             numeric(8,2),
    exercise_time_minutes                integer,
    stand_time_minutes                   integer,
    move_time_minutes                    integer,
    stand_hour_achieved                  boolean     DEFAULT false,
    source                               varchar(100),
    raw_data                             jsonb,
    aggregation_period                   varchar(20) DEFAULT 'hourly',
    created_at                           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT activity_metrics_v2_unconstrained_pkey PRIMARY KEY (user_id, recorded_at)
) PARTITION BY RANGE (recorded_at);

CREATE TABLE activity_metrics_v2_unconstrained_default PARTITION OF activity_metrics_v2_unconstrained DEFAULT;

CREATE INDEX idx_activity_v2_unc_recorded_at_brin ON activity_metrics_v2_unconstrained USING brin (recorded_at);
CREATE INDEX idx_activity_v2_unc_user_aggregation ON activity_metrics_v2_unconstrained (user_id, aggregation_period);

COMMENT ON TABLE activity_metrics_v2_unconstrained IS
    'Benchmark floor: activity_metrics_v2 without any CHECK or trigger (same PK, FK, partitioning, indexes).';

INSERT INTO hmperf.partition_maintenance (parent_table, months_back, months_ahead)
VALUES ('activity_metrics_v2_optimized', 1, 3),
       ('activity_metrics_v2_unconstrained', 1, 3);

SELECT hmperf.create_monthly_partitions('activity_metrics_v2_optimized'::regclass, 1, 3);
SELECT hmperf.create_monthly_partitions('activity_metrics_v2_unconstrained'::regclass, 1, 3);

CREATE FUNCTION benchmark_activity_constraint_performance(n integer DEFAULT 5000)
RETURNS TABLE (
    table_name              text,
    variant                 text,
    rows                    bigint,
    seconds                 double precision,
    rows_per_second         double precision,
    constraint_overhead_pct double precision
)
LANGUAGE plpgsql AS $$
DECLARE
    v_cols    constant text := 'user_id, recorded_at, step_count, flights_climbed, distance_walking_running_meters, distance_cycling_meters, distance_swimming_meters, distance_wheelchair_meters, distance_downhill_snow_sports_meters, push_count, swimming_stroke_count, nike_fuel, active_energy_burned_kcal, basal_energy_burned_kcal, exercise_time_minutes, stand_time_minutes, move_time_minutes, stand_hour_achieved, source, aggregation_period';
    v_user    uuid;
    v_base    timestamptz := date_trunc('minute', now());
    v_names   text[] := ARRAY['activity_metrics_v2_unconstrained', 'activity_metrics_v2', 'activity_metrics_v2_optimized'];
    v_vars    text[] := ARRAY['unconstrained', 'original', 'optimized'];
    v_rows    bigint[] := ARRAY[0, 0, 0];
    v_secs    double precision[] := ARRAY[0, 0, 0];
    v_r       record;
BEGIN
    IF n IS NULL OR n < 1 THEN
        RAISE EXCEPTION 'benchmark_activity_constraint_performance: n must be >= 1 (got %)', n
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    BEGIN
        INSERT INTO users (email) VALUES (NULL) RETURNING id INTO v_user;

        -- The same n rows for every variant, every value inside its range.
        EXECUTE $q$
        CREATE TEMP TABLE hmperf_bench_activity AS
        SELECT $1::uuid AS user_id,
               $2::timestamptz - g * interval '1 second' AS recorded_at,
           floor(random() * 200001)::integer AS step_count,
           floor(random() * 10001)::integer AS flights_climbed,
           round((random() * 500000)::numeric, 2) AS distance_walking_running_meters,
           round((random() * 1000000)::numeric, 2) AS distance_cycling_meters,
           round((random() * 50000)::numeric, 2) AS distance_swimming_meters,
           round((random() * 500000)::numeric, 2) AS distance_wheelchair_meters,
           round((random() * 200000)::numeric, 2) AS distance_downhill_snow_sports_meters,
           floor(random() * 50001)::integer AS push_count,
           floor(random() * 100001)::integer AS swimming_stroke_count,
           round((random() * 50000)::numeric, 2) AS nike_fuel,
           round((random() * 20000)::numeric, 2) AS active_energy_burned_kcal,
           round((random() * 10000)::numeric, 2) AS basal_energy_burned_kcal,
           floor(random() * 1441)::integer AS exercise_time_minutes,
           floor(random() * 1441)::integer AS stand_time_minutes,
           floor(random() * 1441)::integer AS move_time_minutes,
               random() < 0.5 AS stand_hour_achieved,
               'hmperf-benchmark'::varchar(100) AS source,
               (ARRAY['minute', 'hourly', 'daily', 'weekly'])[1 + floor(random() * 4)::int]::varchar(20) AS aggregation_period
          FROM generate_series(1, $3) AS g
        $q$ USING v_user, v_base, n;

        FOR i IN 1 .. 3 LOOP
            PERFORM hmperf.benchmark_timed_insert(v_names[i]::regclass, v_cols, 'pg_temp.hmperf_bench_activity'::regclass, least(n, 100));
        END LOOP;

        FOR i IN 1 .. 3 LOOP
            SELECT * INTO v_r
              FROM hmperf.benchmark_timed_insert(v_names[i]::regclass, v_cols, 'pg_temp.hmperf_bench_activity'::regclass);
            v_rows[i] := v_r.inserted_rows;
            v_secs[i] := v_r.elapsed_seconds;
        END LOOP;

        RAISE EXCEPTION 'benchmark rollback' USING ERRCODE = 'HMB01';
    EXCEPTION WHEN SQLSTATE 'HMB01' THEN
        NULL;
    END;

    FOR i IN 1 .. 3 LOOP
        table_name := v_names[i];
        variant := v_vars[i];
        rows := v_rows[i];
        seconds := v_secs[i];
        rows_per_second := CASE WHEN v_secs[i] > 0 THEN v_rows[i] / v_secs[i] END;
        constraint_overhead_pct := CASE WHEN i = 1 OR v_secs[i] <= 0 THEN NULL
                                        ELSE (v_secs[i] - v_secs[1]) / v_secs[i] * 100 END;
        RETURN NEXT;
    END LOOP;
END;
$$;

COMMENT ON FUNCTION benchmark_activity_constraint_performance(integer) IS
    'Inserts the same n generated rows into activity_metrics_v2_unconstrained, activity_metrics_v2 and activity_metrics_v2_optimized (in that order, after a small warm-up), each timed with clock_timestamp() and rolled back; one row per variant. constraint_overhead_pct = (t - t_unconstrained) / t * 100.';

-- Monitoring ---------------------------------------------------------------

CREATE TABLE constraint_performance_monitor (
    id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    table_name              text             NOT NULL,
    measured_at             timestamptz      NOT NULL DEFAULT now(),
    source                  text             NOT NULL,
    source_ref              bigint,
    rows                    bigint           NOT NULL,
    seconds                 double precision NOT NULL,
    constraint_overhead_pct double precision,
    failures                bigint           NOT NULL DEFAULT 0,
    cache_hits              bigint           NOT NULL DEFAULT 0,
    cache_misses            bigint           NOT NULL DEFAULT 0,
    CONSTRAINT constraint_performance_monitor_source_check
        CHECK (source IN ('ingest', 'benchmark', 'trigger')),
    CONSTRAINT constraint_performance_monitor_counts_check
        CHECK (rows >= 0 AND seconds >= 0 AND failures >= 0 AND cache_hits >= 0 AND cache_misses >= 0)
);

CREATE INDEX idx_constraint_perf_monitor_measured_at ON constraint_performance_monitor (measured_at);
CREATE INDEX idx_constraint_perf_monitor_table_measured ON constraint_performance_monitor (table_name, measured_at);

COMMENT ON TABLE constraint_performance_monitor IS
    'Constraint performance samples, one per ingest batch (source ingest) or benchmark measurement (source benchmark); written by statement-level triggers on hmperf.ingest_batch_stats and hmperf.benchmark_results, never on the metric tables'' insert path. source_ref = id of the originating row.';

CREATE FUNCTION hmperf.monitor_ingest_batch_stats() RETURNS trigger
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

CREATE TRIGGER monitor_ingest_batch_stats
    AFTER INSERT ON hmperf.ingest_batch_stats
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION hmperf.monitor_ingest_batch_stats();

CREATE FUNCTION hmperf.monitor_benchmark_results() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- One monitor row per new result; overhead against the unconstrained
    -- result of the same run, rep and family when there is one already.
    INSERT INTO constraint_performance_monitor
           (table_name, measured_at, source, source_ref, rows, seconds,
            constraint_overhead_pct, failures, cache_hits, cache_misses)
    SELECT CASE WHEN r.variant = 'original' OR right(r.table_name, length(r.variant) + 1) = '_' || r.variant
                THEN r.table_name
                ELSE r.table_name || '_' || r.variant END,
           r.measured_at, 'benchmark', r.id, r.rows, r.seconds,
           CASE WHEN r.variant <> 'unconstrained' AND r.seconds > 0
                THEN (r.seconds - u.seconds) / r.seconds * 100 END,
           0, 0, 0
      FROM new_rows r
      LEFT JOIN LATERAL (
            SELECT b.seconds
              FROM hmperf.benchmark_results b
             WHERE b.run_id = r.run_id AND b.rep = r.rep AND b.variant = 'unconstrained'
               AND regexp_replace(b.table_name, '_(optimized|unconstrained)$', '')
                 = regexp_replace(r.table_name, '_(optimized|unconstrained)$', '')
             ORDER BY b.id
             LIMIT 1
           ) u ON r.variant <> 'unconstrained';

    -- A new unconstrained result completes the rows that arrived before it.
    UPDATE constraint_performance_monitor m
       SET constraint_overhead_pct = (b.seconds - u.seconds) / b.seconds * 100
      FROM hmperf.benchmark_results b
      JOIN new_rows u
        ON u.variant = 'unconstrained' AND u.run_id = b.run_id AND u.rep = b.rep
       AND regexp_replace(u.table_name, '_(optimized|unconstrained)$', '')
         = regexp_replace(b.table_name, '_(optimized|unconstrained)$', '')
     WHERE m.source = 'benchmark'
       AND m.source_ref = b.id
       AND b.variant <> 'unconstrained'
       AND b.seconds > 0
       AND m.constraint_overhead_pct IS NULL;
    RETURN NULL;
END;
$$;

CREATE TRIGGER monitor_benchmark_results
    AFTER INSERT ON hmperf.benchmark_results
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION hmperf.monitor_benchmark_results();

CREATE VIEW real_time_constraint_performance AS
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

COMMENT ON VIEW real_time_constraint_performance IS
    'Per table and hour (last 48 h): rows, rows/s, ms per 1000 rows, average constraint overhead %, constraint failures, cache hit rate %.';

CREATE TABLE constraint_alert_thresholds (
    alert_name  text             PRIMARY KEY,
    metric      text             NOT NULL,
    comparison  text             NOT NULL,
    threshold   double precision NOT NULL,
    severity    text             NOT NULL,
    enabled     boolean          NOT NULL DEFAULT true,
    description text,
    CONSTRAINT constraint_alert_thresholds_metric_check
        CHECK (metric IN ('overhead_pct', 'failures_per_hour', 'cache_hit_rate_pct')),
    CONSTRAINT constraint_alert_thresholds_comparison_check
        CHECK (comparison IN ('>', '<')),
    CONSTRAINT constraint_alert_thresholds_severity_check
        CHECK (severity IN ('WARNING', 'CRITICAL'))
);

INSERT INTO constraint_alert_thresholds (alert_name, metric, comparison, threshold, severity, description) VALUES
    ('constraint_overhead_warning',  'overhead_pct',       '>', 30, 'WARNING',  'Constraint overhead above 30% of insert time'),
    ('constraint_overhead_critical', 'overhead_pct',       '>', 50, 'CRITICAL', 'Constraint overhead above 50% of insert time'),
    ('constraint_failures_warning',  'failures_per_hour',  '>', 5,  'WARNING',  'More than 5 constraint failures in an hour'),
    ('cache_hit_rate_low',           'cache_hit_rate_pct', '<', 60, 'WARNING',  'Validation cache hit rate below 60% (performance degradation)');

COMMENT ON TABLE constraint_alert_thresholds IS
    'Alert thresholds for check_constraint_performance_alerts() (the report''s values); a DBA may change or disable them.';

CREATE FUNCTION check_constraint_performance_alerts()
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

COMMENT ON FUNCTION check_constraint_performance_alerts() IS
    'One row per firing alert and table: the latest hour bucket of real_time_constraint_performance with a value for the metric must be the current or previous hour and breach the threshold; firing_since = start of the unbroken run of breaching hourly buckets ending there. WARNING and CRITICAL overhead rows are both returned when both fire.';

COMMIT;
