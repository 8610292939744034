-- 0028_hmperf_overhead_definition down: the overhead as (t - t_floor) / t again,
-- the stored benchmark samples converted back, no stored verdicts.
BEGIN;

CREATE OR REPLACE FUNCTION benchmark_nutrition_insert_performance(n integer DEFAULT 5000)
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
    v_cols    constant text := 'user_id, recorded_at, water_ml, energy_consumed_kcal, carbohydrates_g, protein_g, fat_total_g, fat_saturated_g, fat_monounsaturated_g, fat_polyunsaturated_g, cholesterol_mg, fiber_g, sugar_g, sodium_mg, vitamin_a_mcg, vitamin_d_mcg, vitamin_e_mg, vitamin_k_mcg, vitamin_c_mg, thiamin_mg, riboflavin_mg, niacin_mg, pantothenic_acid_mg, vitamin_b6_mg, biotin_mcg, folate_mcg, vitamin_b12_mcg, calcium_mg, phosphorus_mg, magnesium_mg, potassium_mg, chloride_mg, iron_mg, zinc_mg, copper_mg, manganese_mg, iodine_mcg, selenium_mcg, chromium_mcg, molybdenum_mcg, caffeine_mg, source, aggregation_period';
    v_user    uuid;
    v_base    timestamptz := date_trunc('minute', now());
    v_names   text[] := ARRAY['nutrition_metrics_unconstrained', 'nutrition_metrics', 'nutrition_metrics_optimized'];
    v_vars    text[] := ARRAY['unconstrained', 'original', 'optimized'];
    v_rows    bigint[] := ARRAY[0, 0, 0];
    v_secs    double precision[] := ARRAY[0, 0, 0];
    v_r       record;
BEGIN
    IF n IS NULL OR n < 1 THEN
        RAISE EXCEPTION 'benchmark_nutrition_insert_performance: n must be >= 1 (got %)', n
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    BEGIN
        INSERT INTO users (email) VALUES (NULL) RETURNING id INTO v_user;

        -- The same n rows for every variant: values uniformly inside every
        -- column's range (valid for all three tables), one row per second
        -- going back from now, so (user_id, recorded_at) is unique.
        EXECUTE $q$
        CREATE TEMP TABLE hmperf_bench_nutrition AS
        SELECT $1::uuid AS user_id,
               $2::timestamptz - g * interval '1 second' AS recorded_at,
           round((random() * 20000)::numeric, 2) AS water_ml,
           round((random() * 20000)::numeric, 2) AS energy_consumed_kcal,
           round((random() * 3000)::numeric, 2) AS carbohydrates_g,
           round((random() * 1000)::numeric, 2) AS protein_g,
           round((random() * 1000)::numeric, 2) AS fat_total_g,
           round((random() * 500)::numeric, 2) AS fat_saturated_g,
           round((random() * 500)::numeric, 2) AS fat_monounsaturated_g,
           round((random() * 500)::numeric, 2) AS fat_polyunsaturated_g,
           round((random() * 5000)::numeric, 2) AS cholesterol_mg,
           round((random() * 200)::numeric, 2) AS fiber_g,
           round((random() * 2000)::numeric, 2) AS sugar_g,
           round((random() * 50000)::numeric, 2) AS sodium_mg,
           round((random() * 10000)::numeric, 2) AS vitamin_a_mcg,
           round((random() * 1000)::numeric, 2) AS vitamin_d_mcg,
           round((random() * 2000)::numeric, 2) AS vitamin_e_mg,
           round((random() * 5000)::numeric, 2) AS vitamin_k_mcg,
           round((random() * 5000)::numeric, 2) AS vitamin_c_mg,
           round((random() * 100)::numeric, 3) AS thiamin_mg,
           round((random() * 100)::numeric, 3) AS riboflavin_mg,
           round((random() * 1000)::numeric, 2) AS niacin_mg,
           round((random() * 100)::numeric, 3) AS pantothenic_acid_mg,
           round((random() * 500)::numeric, 3) AS vitamin_b6_mg,
           round((random() * 10000)::numeric, 2) AS biotin_mcg,
           round((random() * 5000)::numeric, 2) AS folate_mcg,
           round((random() * 5000)::numeric, 2) AS vitamin_b12_mcg,
           round((random() * 10000)::numeric, 2) AS calcium_mg,
           round((random() * 10000)::numeric, 2) AS phosphorus_mg,
           round((random() * 5000)::numeric, 2) AS magnesium_mg,
           round((random() * 20000)::numeric, 2) AS potassium_mg,
           round((random() * 20000)::numeric, 2) AS chloride_mg,
           round((random() * 200)::numeric, 3) AS iron_mg,
           round((random() * 200)::numeric, 3) AS zinc_mg,
           round((random() * 50)::numeric, 3) AS copper_mg,
           round((random() * 50)::numeric, 3) AS manganese_mg,
           round((random() * 5000)::numeric, 2) AS iodine_mcg,
           round((random() * 2000)::numeric, 2) AS selenium_mcg,
           round((random() * 2000)::numeric, 2) AS chromium_mcg,
           round((random() * 5000)::numeric, 2) AS molybdenum_mcg,
           round((random() * 2000)::numeric, 2) AS caffeine_mg,
               'hmperf-benchmark'::varchar(100) AS source,
               (ARRAY['meal', 'daily', 'weekly'])[1 + floor(random() * 3)::int]::varchar(20) AS aggregation_period
          FROM generate_series(1, $3) AS g
        $q$ USING v_user, v_base, n;

        -- Warm-up: a few rows into each table (rolled back) so that the first
        -- timed variant does not pay the cold caches alone.
        FOR i IN 1 .. 3 LOOP
            PERFORM hmperf.benchmark_timed_insert(v_names[i]::regclass, v_cols, 'pg_temp.hmperf_bench_nutrition'::regclass, least(n, 100));
        END LOOP;

        FOR i IN 1 .. 3 LOOP
            SELECT * INTO v_r
              FROM hmperf.benchmark_timed_insert(v_names[i]::regclass, v_cols, 'pg_temp.hmperf_bench_nutrition'::regclass);
            v_rows[i] := v_r.inserted_rows;
            v_secs[i] := v_r.elapsed_seconds;
        END LOOP;

        -- Roll back the user row and the temporary table too.
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

COMMENT ON FUNCTION benchmark_nutrition_insert_performance(integer) IS
    'Inserts the same n generated rows into nutrition_metrics_unconstrained, nutrition_metrics and nutrition_metrics_optimized (in that order, after a small warm-up), each timed with clock_timestamp() and rolled back; one row per variant. constraint_overhead_pct = (t - t_unconstrained) / t * 100. One call is one repetition: repeat and interleave calls for a real comparison.';

CREATE OR REPLACE FUNCTION benchmark_symptoms_insert_performance(n integer DEFAULT 5000)
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
    v_cols    constant text := 'user_id, recorded_at, symptom_type, severity, duration_minutes, onset_at, triggers, treatments, source';
    v_sel_opt constant text := 'user_id, recorded_at, symptom_type::text::symptom_type_enum, severity::text::symptom_severity_enum, duration_minutes, onset_at, triggers, treatments, source';
    v_user    uuid;
    v_base    timestamptz := date_trunc('minute', now());
    v_names   text[] := ARRAY['symptoms_unconstrained', 'symptoms', 'symptoms_optimized'];
    v_vars    text[] := ARRAY['unconstrained', 'original', 'optimized'];
    v_rows    bigint[] := ARRAY[0, 0, 0];
    v_secs    double precision[] := ARRAY[0, 0, 0];
    v_sel     text;
    v_r       record;
BEGIN
    IF n IS NULL OR n < 1 THEN
        RAISE EXCEPTION 'benchmark_symptoms_insert_performance: n must be >= 1 (got %)', n
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    BEGIN
        INSERT INTO users (email) VALUES (NULL) RETURNING id INTO v_user;

        -- The same n rows for every variant, valid for all three tables: one
        -- row per second going back from now, a uniformly random type out of
        -- the 68 and severity out of the 4, onset before recorded_at, a JSON
        -- array of triggers/treatments on about half of the rows.
        EXECUTE $q$
        CREATE TEMP TABLE hmperf_bench_symptoms AS
        SELECT $1::uuid AS user_id,
               $2::timestamptz - g * interval '1 second' AS recorded_at,
               (enum_range(NULL::symptom_type_enum))[1 + floor(random() * 68)::int]::text::varchar(50) AS symptom_type,
               (enum_range(NULL::symptom_severity_enum))[1 + floor(random() * 4)::int]::text::varchar(20) AS severity,
               floor(random() * 10081)::int AS duration_minutes,
               $2::timestamptz - g * interval '1 second' - floor(random() * 1440)::int * interval '1 minute' AS onset_at,
               CASE WHEN random() < 0.5 THEN '["stress", "poor_sleep"]'::jsonb END AS triggers,
               CASE WHEN random() < 0.5 THEN '["rest", "hydration"]'::jsonb END AS treatments,
               'hmperf-benchmark'::varchar(100) AS source
          FROM generate_series(1, $3) AS g
        $q$ USING v_user, v_base, n;

        FOR i IN 1 .. 3 LOOP
            v_sel := CASE WHEN i = 3 THEN v_sel_opt END;
            PERFORM hmperf.benchmark_timed_insert(v_names[i]::regclass, v_cols, 'pg_temp.hmperf_bench_symptoms'::regclass, least(n, 100), v_sel);
        END LOOP;

        FOR i IN 1 .. 3 LOOP
            v_sel := CASE WHEN i = 3 THEN v_sel_opt END;
            SELECT * INTO v_r
              FROM hmperf.benchmark_timed_insert(v_names[i]::regclass, v_cols, 'pg_temp.hmperf_bench_symptoms'::regclass, NULL, v_sel);
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

COMMENT ON FUNCTION benchmark_symptoms_insert_performance(integer) IS
    'Inserts the same n generated rows into symptoms_unconstrained, symptoms and symptoms_optimized (in that order, after a small warm-up), each timed with clock_timestamp() and rolled back; one row per variant. constraint_overhead_pct = (t - t_unconstrained) / t * 100.';

CREATE OR REPLACE FUNCTION benchmark_activity_constraint_performance(n integer DEFAULT 5000)
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

CREATE OR REPLACE FUNCTION hmperf.monitor_benchmark_results() RETURNS trigger
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


DROP TABLE hmperf.benchmark_verdicts;

UPDATE constraint_alert_thresholds SET description = 'Constraint overhead above 30% of insert time'
 WHERE alert_name = 'constraint_overhead_warning' AND description = 'Constraint overhead above 30% of the unconstrained floor''s time';
UPDATE constraint_alert_thresholds SET description = 'Constraint overhead above 50% of insert time'
 WHERE alert_name = 'constraint_overhead_critical' AND description = 'Constraint overhead above 50% of the unconstrained floor''s time';

UPDATE constraint_performance_monitor
   SET constraint_overhead_pct = constraint_overhead_pct / (100 + constraint_overhead_pct) * 100
 WHERE source = 'benchmark' AND constraint_overhead_pct IS NOT NULL AND constraint_overhead_pct > -100;

COMMIT;
