-- 0013_nutrition_metrics (seed-facts §3): dietary intake, monthly range
-- partitions on recorded_at.
--
-- Kept as in the original (the benchmark baseline): all 39 nutrient columns
-- with their exact NUMERIC(8,2)/NUMERIC(8,3) types, one named CHECK per column
-- (nutrition_<short>_check: NULL or lo..hi inclusive) plus the aggregation
-- period CHECK = 40 CHECKs, PK (user_id, recorded_at), id BIGSERIAL (not
-- unique, as in the original), BRIN on recorded_at, B-tree on
-- (user_id, aggregation_period).
--
-- Deviations, all deliberate:
--   * No UNIQUE (user_id, recorded_at) next to the identical PK (§10.10): it
--     built and maintained the same index twice.
--   * A DEFAULT partition nutrition_metrics_default (§10.10).
--   * No per-partition index copies (§10.10); dropped the BRIN on
--     (user_id, recorded_at) and on (aggregation_period, recorded_at) (§10.11:
--     they prune almost nothing; the PK serves per-user lookups).
--   * The inline aggregation_period CHECK is named
--     nutrition_metrics_aggregation_period_check (PostgreSQL's own name for it).
--   * create_nutrition_monthly_partitions returns the number created (was void).
--   * analyze_nutrition_performance() finds partitions through pg_inherits (not
--     LIKE, §10.14) and computes total_fields_with_data as the number of
--     nutrient columns that hold at least one non-NULL value, instead of the
--     hard-coded 37.
--   * nutrition_metrics_daily_summary no longer adds 'meal' and 'daily' rows
--     of the same day together (§10.13): per (user, UTC day) it sums the
--     'daily' rows when the day has any, otherwise the 'meal' rows;
--     aggregation_periods_used shows the granularity summed. Days are UTC days.
BEGIN;

CREATE TABLE nutrition_metrics (
    id                     bigserial,
    user_id                uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    recorded_at            timestamptz NOT NULL,
    water_ml               numeric(8,2),
    energy_consumed_kcal   numeric(8,2),
    carbohydrates_g        numeric(8,2),
    protein_g              numeric(8,2),
    fat_total_g            numeric(8,2),
    fat_saturated_g        numeric(8,2),
    fat_monounsaturated_g  numeric(8,2),
    fat_polyunsaturated_g  numeric(8,2),
    cholesterol_mg         numeric(8,2),
    fiber_g                numeric(8,2),
    sugar_g                numeric(8,2),
    sodium_mg              numeric(8,2),
    vitamin_a_mcg          numeric(8,2),
    vitamin_d_mcg          numeric(8,2),
    vitamin_e_mg           numeric(8,2),
    vitamin_k_mcg          numeric(8,2),
    vitamin_c_mg           numeric(8,2),
    thiamin_mg             numeric(8,3),
    riboflavin_mg          numeric(8,3),
    niacin_mg              numeric(8,2),
    pantothenic_acid_mg    numeric(8,3),
    vitamin_b6_mg          numeric(8,3),
    biotin_mcg             numeric(8,2),
    folate_mcg             numeric(8,2),
    vitamin_b12_mcg        numeric(8,2),
    calcium_mg             numeric(8,2),
    phosphorus_mg          numeric(8,2),
    magnesium_mg           numeric(8,2),
    potassium_mg           numeric(8,2),
    chloride_mg            numeric(8,2),
    iron_mg                numeric(8,3),
    zinc_mg                numeric(8,3),
    copper_mg              numeric(8,3),
    manganese_mg           numeric(8,3),
    iodine_mcg             numeric(8,2),
    selenium_mcg           numeric(8,2),
    chromium_mcg           numeric(8,2),
    molybdenum_mcg         numeric(8,2),
    caffeine_mg            numeric(8,2),
    source                 varchar(100),
    raw_data               jsonb,
    aggregation_period     varchar(20) DEFAULT 'daily',
    created_at             timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT nutrition_metrics_pkey PRIMARY KEY (user_id, recorded_at),
    CONSTRAINT nutrition_water_check
        CHECK (water_ml IS NULL OR (water_ml >= 0 AND water_ml <= 20000)),
    CONSTRAINT nutrition_energy_check
        CHECK (energy_consumed_kcal IS NULL OR (energy_consumed_kcal >= 0 AND energy_consumed_kcal <= 20000)),
    CONSTRAINT nutrition_carbs_check
        CHECK (carbohydrates_g IS NULL OR (carbohydrates_g >= 0 AND carbohydrates_g <= 3000)),
    CONSTRAINT nutrition_protein_check
        CHECK (protein_g IS NULL OR (protein_g >= 0 AND protein_g <= 1000)),
    CONSTRAINT nutrition_fat_total_check
        CHECK (fat_total_g IS NULL OR (fat_total_g >= 0 AND fat_total_g <= 1000)),
    CONSTRAINT nutrition_fat_saturated_check
        CHECK (fat_saturated_g IS NULL OR (fat_saturated_g >= 0 AND fat_saturated_g <= 500)),
    CONSTRAINT nutrition_fat_monounsaturated_check
        CHECK (fat_monounsaturated_g IS NULL OR (fat_monounsaturated_g >= 0 AND fat_monounsaturated_g <= 500)),
    CONSTRAINT nutrition_fat_polyunsaturated_check
        CHECK (fat_polyunsaturated_g IS NULL OR (fat_polyunsaturated_g >= 0 AND fat_polyunsaturated_g <= 500)),
    CONSTRAINT nutrition_cholesterol_check
        CHECK (cholesterol_mg IS NULL OR (cholesterol_mg >= 0 AND cholesterol_mg <= 5000)),
    CONSTRAINT nutrition_fiber_check
        CHECK (fiber_g IS NULL OR (fiber_g >= 0 AND fiber_g <= 200)),
    CONSTRAINT nutrition_sugar_check
        CHECK (sugar_g IS NULL OR (sugar_g >= 0 AND sugar_g <= 2000)),
    CONSTRAINT nutrition_sodium_check
        CHECK (sodium_mg IS NULL OR (sodium_mg >= 0 AND sodium_mg <= 50000)),
    CONSTRAINT nutrition_vitamin_a_check
        CHECK (vitamin_a_mcg IS NULL OR (vitamin_a_mcg >= 0 AND vitamin_a_mcg <= 10000)),
    CONSTRAINT nutrition_vitamin_d_check
        CHECK (vitamin_d_mcg IS NULL OR (vitamin_d_mcg >= 0 AND vitamin_d_mcg <= 1000)),
    CONSTRAINT nutrition_vitamin_e_check
        CHECK (vitamin_e_mg IS NULL OR (vitamin_e_mg >= 0 AND vitamin_e_mg <= 2000)),
    CONSTRAINT nutrition_vitamin_k_check
        CHECK (vitamin_k_mcg IS NULL OR (vitamin_k_mcg >= 0 AND vitamin_k_mcg <= 5000)),
    CONSTRAINT nutrition_vitamin_c_check
        CHECK (vitamin_c_mg IS NULL OR (vitamin_c_mg >= 0 AND vitamin_c_mg <= 5000)),
    CONSTRAINT nutrition_thiamin_check
        CHECK (thiamin_mg IS NULL OR (thiamin_mg >= 0 AND thiamin_mg <= 100)),
    CONSTRAINT nutrition_riboflavin_check
        CHECK (riboflavin_mg IS NULL OR (riboflavin_mg >= 0 AND riboflavin_mg <= 100)),
    CONSTRAINT nutrition_niacin_check
        CHECK (niacin_mg IS NULL OR (niacin_mg >= 0 AND niacin_mg <= 1000)),
    CONSTRAINT nutrition_pantothenic_acid_check
        CHECK (pantothenic_acid_mg IS NULL OR (pantothenic_acid_mg >= 0 AND pantothenic_acid_mg <= 100)),
    CONSTRAINT nutrition_vitamin_b6_check
        CHECK (vitamin_b6_mg IS NULL OR (vitamin_b6_mg >= 0 AND vitamin_b6_mg <= 500)),
    CONSTRAINT nutrition_biotin_check
        CHECK (biotin_mcg IS NULL OR (biotin_mcg >= 0 AND biotin_mcg <= 10000)),
    CONSTRAINT nutrition_folate_check
        CHECK (folate_mcg IS NULL OR (folate_mcg >= 0 AND folate_mcg <= 5000)),
    CONSTRAINT nutrition_vitamin_b12_check
        CHECK (vitamin_b12_mcg IS NULL OR (vitamin_b12_mcg >= 0 AND vitamin_b12_mcg <= 5000)),
    CONSTRAINT nutrition_calcium_check
        CHECK (calcium_mg IS NULL OR (calcium_mg >= 0 AND calcium_mg <= 10000)),
    CONSTRAINT nutrition_phosphorus_check
        CHECK (phosphorus_mg IS NULL OR (phosphorus_mg >= 0 AND phosphorus_mg <= 10000)),
    CONSTRAINT nutrition_magnesium_check
        CHECK (magnesium_mg IS NULL OR (magnesium_mg >= 0 AND magnesium_mg <= 5000)),
    CONSTRAINT nutrition_potassium_check
        CHECK (potassium_mg IS NULL OR (potassium_mg >= 0 AND potassium_mg <= 20000)),
    CONSTRAINT nutrition_chloride_check
        CHECK (chloride_mg IS NULL OR (chloride_mg >= 0 AND chloride_mg <= 20000)),
    CONSTRAINT nutrition_iron_check
        CHECK (iron_mg IS NULL OR (iron_mg >= 0 AND iron_mg <= 200)),
    CONSTRAINT nutrition_zinc_check
        CHECK (zinc_mg IS NULL OR (zinc_mg >= 0 AND zinc_mg <= 200)),
    CONSTRAINT nutrition_copper_check
        CHECK (copper_mg IS NULL OR (copper_mg >= 0 AND copper_mg <= 50)),
    CONSTRAINT nutrition_manganese_check
        CHECK (manganese_mg IS NULL OR (manganese_mg >= 0 AND manganese_mg <= 50)),
    CONSTRAINT nutrition_iodine_check
        CHECK (iodine_mcg IS NULL OR (iodine_mcg >= 0 AND iodine_mcg <= 5000)),
    CONSTRAINT nutrition_selenium_check
        CHECK (selenium_mcg IS NULL OR (selenium_mcg >= 0 AND selenium_mcg <= 2000)),
    CONSTRAINT nutrition_chromium_check
        CHECK (chromium_mcg IS NULL OR (chromium_mcg >= 0 AND chromium_mcg <= 2000)),
    CONSTRAINT nutrition_molybdenum_check
        CHECK (molybdenum_mcg IS NULL OR (molybdenum_mcg >= 0 AND molybdenum_mcg <= 5000)),
    CONSTRAINT nutrition_caffeine_check
        CHECK (caffeine_mg IS NULL OR (caffeine_mg >= 0 AND caffeine_mg <= 2000)),
    CONSTRAINT nutrition_metrics_aggregation_period_check
        CHECK (aggregation_period IN ('meal', 'daily', 'weekly'))
) PARTITION BY RANGE (recorded_at);

CREATE TABLE nutrition_metrics_default PARTITION OF nutrition_metrics DEFAULT;

CREATE INDEX idx_nutrition_recorded_at_brin ON nutrition_metrics USING brin (recorded_at);
CREATE INDEX idx_nutrition_user_aggregation ON nutrition_metrics (user_id, aggregation_period);

CREATE FUNCTION create_nutrition_monthly_partitions(
    start_months_back integer DEFAULT 1,
    end_months_ahead integer DEFAULT 3
) RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN
    RETURN hmperf.create_monthly_partitions('nutrition_metrics'::regclass, start_months_back, end_months_ahead);
END;
$$;

CREATE FUNCTION analyze_nutrition_performance()
RETURNS TABLE (
    table_name             text,
    partition_count        bigint,
    total_rows             bigint,
    avg_rows_per_partition bigint,
    oldest_data            timestamptz,
    newest_data            timestamptz,
    total_fields_with_data bigint
)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_expr text;
BEGIN
    SELECT s.table_name, s.partition_count, s.total_rows, s.avg_rows_per_partition,
           s.oldest_data, s.newest_data
      INTO table_name, partition_count, total_rows, avg_rows_per_partition,
           oldest_data, newest_data
      FROM hmperf.partition_summary('nutrition_metrics'::regclass) s;

    -- The nutrient columns are the numeric columns of the table.
    SELECT string_agg(format('(count(%I) > 0)::int', a.attname), ' + ' ORDER BY a.attnum)
      INTO v_expr
      FROM pg_attribute a
     WHERE a.attrelid = 'nutrition_metrics'::regclass
       AND a.attnum > 0 AND NOT a.attisdropped
       AND a.atttypid = 'numeric'::regtype;
    EXECUTE format('SELECT %s FROM nutrition_metrics', v_expr) INTO total_fields_with_data;
    RETURN NEXT;
END;
$$;

CREATE VIEW nutrition_metrics_daily_summary AS
WITH per_day AS (
    SELECT n.*,
           (n.recorded_at AT TIME ZONE 'UTC')::date AS nutrition_date,
           bool_or(n.aggregation_period = 'daily') OVER (
               PARTITION BY n.user_id, (n.recorded_at AT TIME ZONE 'UTC')::date) AS day_has_daily
      FROM nutrition_metrics n
     WHERE n.aggregation_period IN ('meal', 'daily')
)
SELECT user_id,
       nutrition_date,
       sum(water_ml)                          AS total_water_ml,
       sum(energy_consumed_kcal)              AS total_energy_kcal,
       sum(carbohydrates_g)                   AS total_carbs_g,
       sum(protein_g)                         AS total_protein_g,
       sum(fat_total_g)                       AS total_fat_g,
       sum(fiber_g)                           AS total_fiber_g,
       sum(sugar_g)                           AS total_sugar_g,
       sum(sodium_mg)                         AS total_sodium_mg,
       sum(vitamin_c_mg)                      AS total_vitamin_c_mg,
       sum(vitamin_d_mcg)                     AS total_vitamin_d_mcg,
       sum(vitamin_b12_mcg)                   AS total_vitamin_b12_mcg,
       sum(calcium_mg)                        AS total_calcium_mg,
       sum(iron_mg)                           AS total_iron_mg,
       sum(magnesium_mg)                      AS total_magnesium_mg,
       sum(potassium_mg)                      AS total_potassium_mg,
       sum(caffeine_mg)                       AS total_caffeine_mg,
       count(*)                               AS total_entries,
       array_agg(DISTINCT source) FILTER (WHERE source IS NOT NULL) AS data_sources,
       array_agg(DISTINCT aggregation_period) AS aggregation_periods_used
  FROM per_day
 WHERE aggregation_period = CASE WHEN day_has_daily THEN 'daily' ELSE 'meal' END
 GROUP BY user_id, nutrition_date;

COMMENT ON VIEW nutrition_metrics_daily_summary IS
    'Per user and UTC day: sums of the daily rows when the day has any, else of the meal rows; never both (fixes the original''s double counting).';

COMMIT;
