-- 0012_activity_metrics_v2 (seed-facts §5): Apple-Health activity samples,
-- monthly range partitions on recorded_at.
--
-- Kept as in the original (the benchmark baseline): every column and type, the
-- 15 named range CHECKs, the inline aggregation_period CHECK (named here
-- activity_metrics_v2_aggregation_period_check, the name PostgreSQL gave the
-- inline one), PK (user_id, recorded_at), id BIGSERIAL (not unique, as in the
-- original: a unique id on a partitioned table would have to include
-- recorded_at), the BRIN on recorded_at and the B-tree on
-- (user_id, aggregation_period).
--
-- Deviations, all deliberate:
--   * A DEFAULT partition activity_metrics_v2_default, so rows outside the
--     created months insert (seed-facts §10.10).
--   * No per-partition index copies (§10.10): only the parent's indexes, which
--     propagate.
--   * Dropped the BRIN on (user_id, recorded_at) and the BRIN on
--     (aggregation_period, recorded_at) (§10.11): random UUIDs and a 4-value
--     column give BRIN ranges that prune almost nothing, and the PK B-tree
--     already serves per-user range queries. Fewer indexes also keep the
--     benchmark about constraints, not index maintenance.
--   * create_activity_v2_monthly_partitions returns the number of partitions
--     created (was void) and delegates to create_monthly_partitions.
--   * analyze_activity_v2_performance finds partitions through pg_inherits,
--     not relname LIKE 'activity_metrics_v2_%' (which also matched the
--     *_optimized table, §10.14).
--   * activity_metrics_v2_daily_summary no longer adds hourly and daily rows of
--     the same day together (§10.13): per (user, UTC day) it sums the 'daily'
--     rows when the day has any, otherwise the 'hourly' rows.
--     aggregation_periods_used shows the granularity that was summed. Days are
--     UTC days (the original used the session time zone).
BEGIN;

CREATE TABLE activity_metrics_v2 (
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
    CONSTRAINT activity_metrics_v2_pkey PRIMARY KEY (user_id, recorded_at),
    CONSTRAINT activity_metrics_v2_aggregation_period_check
        CHECK (aggregation_period IN ('minute', 'hourly', 'daily', 'weekly')),
    CONSTRAINT activity_v2_step_count_check
        CHECK (step_count IS NULL OR (step_count >= 0 AND step_count <= 200000)),
    CONSTRAINT activity_v2_flights_climbed_check
        CHECK (flights_climbed IS NULL OR (flights_climbed >= 0 AND flights_climbed <= 10000)),
    CONSTRAINT activity_v2_distance_walking_running_check
        CHECK (distance_walking_running_meters IS NULL OR (distance_walking_running_meters >= 0 AND distance_walking_running_meters <= 500000)),
    CONSTRAINT activity_v2_distance_cycling_check
        CHECK (distance_cycling_meters IS NULL OR (distance_cycling_meters >= 0 AND distance_cycling_meters <= 1000000)),
    CONSTRAINT activity_v2_distance_swimming_check
        CHECK (distance_swimming_meters IS NULL OR (distance_swimming_meters >= 0 AND distance_swimming_meters <= 50000)),
    CONSTRAINT activity_v2_distance_wheelchair_check
        CHECK (distance_wheelchair_meters IS NULL OR (distance_wheelchair_meters >= 0 AND distance_wheelchair_meters <= 500000)),
    CONSTRAINT activity_v2_distance_snow_sports_check
        CHECK (distance_downhill_snow_sports_meters IS NULL OR (distance_downhill_snow_sports_meters >= 0 AND distance_downhill_snow_sports_meters <= 200000)),
    CONSTRAINT activity_v2_push_count_check
        CHECK (push_count IS NULL OR (push_count >= 0 AND push_count <= 50000)),
    CONSTRAINT activity_v2_swimming_stroke_count_check
        CHECK (swimming_stroke_count IS NULL OR (swimming_stroke_count >= 0 AND swimming_stroke_count <= 100000)),
    CONSTRAINT activity_v2_nike_fuel_check
        CHECK (nike_fuel IS NULL OR (nike_fuel >= 0 AND nike_fuel <= 50000)),
    CONSTRAINT activity_v2_active_energy_check
        CHECK (active_energy_burned_kcal IS NULL OR (active_energy_burned_kcal >= 0 AND active_energy_burned_kcal <= 20000)),
    CONSTRAINT activity_v2_basal_energy_check
        CHECK (basal_energy_burned_kcal IS NULL OR (basal_energy_burned_kcal >= 0 AND basal_energy_burned_kcal <= 10000)),
    CONSTRAINT activity_v2_exercise_time_check
        CHECK (exercise_time_minutes IS NULL OR (exercise_time_minutes >= 0 AND exercise_time_minutes <= 1440)),
    CONSTRAINT activity_v2_stand_time_check
        CHECK (stand_time_minutes IS NULL OR (stand_time_minutes >= 0 AND stand_time_minutes <= 1440)),
    CONSTRAINT activity_v2_move_time_check
        CHECK (move_time_minutes IS NULL OR (move_time_minutes >= 0 AND move_time_minutes <= 1440))
) PARTITION BY RANGE (recorded_at);

CREATE TABLE activity_metrics_v2_default PARTITION OF activity_metrics_v2 DEFAULT;

CREATE INDEX idx_activity_v2_recorded_at_brin ON activity_metrics_v2 USING brin (recorded_at);
CREATE INDEX idx_activity_v2_user_aggregation ON activity_metrics_v2 (user_id, aggregation_period);

CREATE FUNCTION create_activity_v2_monthly_partitions(
    start_months_back integer DEFAULT 1,
    end_months_ahead integer DEFAULT 3
) RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN
    RETURN hmperf.create_monthly_partitions('activity_metrics_v2'::regclass, start_months_back, end_months_ahead);
END;
$$;

CREATE FUNCTION analyze_activity_v2_performance()
RETURNS TABLE (
    table_name             text,
    partition_count        bigint,
    total_rows             bigint,
    avg_rows_per_partition bigint,
    oldest_data            timestamptz,
    newest_data            timestamptz
)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN QUERY SELECT * FROM hmperf.partition_summary('activity_metrics_v2'::regclass);
END;
$$;

CREATE VIEW activity_metrics_v2_daily_summary AS
WITH per_day AS (
    SELECT a.*,
           (a.recorded_at AT TIME ZONE 'UTC')::date AS activity_date,
           bool_or(a.aggregation_period = 'daily') OVER (
               PARTITION BY a.user_id, (a.recorded_at AT TIME ZONE 'UTC')::date) AS day_has_daily
      FROM activity_metrics_v2 a
     WHERE a.aggregation_period IN ('hourly', 'daily')
)
SELECT user_id,
       activity_date,
       sum(step_count)                                  AS total_steps,
       sum(flights_climbed)                             AS total_flights_climbed,
       sum(distance_walking_running_meters)             AS total_walking_running_meters,
       sum(distance_cycling_meters)                     AS total_cycling_meters,
       sum(distance_swimming_meters)                    AS total_swimming_meters,
       sum(active_energy_burned_kcal)                   AS total_active_energy_kcal,
       sum(basal_energy_burned_kcal)                    AS total_basal_energy_kcal,
       sum(exercise_time_minutes)                       AS total_exercise_minutes,
       sum(stand_time_minutes)                          AS total_stand_minutes,
       count(*) FILTER (WHERE stand_hour_achieved)      AS stand_hours_achieved,
       count(*)                                         AS total_records,
       array_agg(DISTINCT aggregation_period)           AS aggregation_periods_used
  FROM per_day
 WHERE aggregation_period = CASE WHEN day_has_daily THEN 'daily' ELSE 'hourly' END
 GROUP BY user_id, activity_date;

COMMENT ON VIEW activity_metrics_v2_daily_summary IS
    'Per user and UTC day: sums of the daily rows when the day has any, else of the hourly rows; never both (fixes the original''s double counting).';

COMMIT;
