BEGIN;
DROP FUNCTION IF EXISTS benchmark_nutrition_insert_performance(integer);
DROP FUNCTION IF EXISTS hmperf.benchmark_timed_insert(regclass, text, regclass, bigint, text);
DELETE FROM hmperf.partition_maintenance
 WHERE parent_table IN ('nutrition_metrics_optimized', 'nutrition_metrics_unconstrained');
DROP TABLE IF EXISTS nutrition_metrics_unconstrained;
DROP TABLE IF EXISTS nutrition_metrics_optimized;
DROP FUNCTION IF EXISTS validate_nutrition_metrics_optimized();
DROP DOMAIN IF EXISTS trace_mineral_mg;
DROP DOMAIN IF EXISTS positive_small_numeric;
DROP DOMAIN IF EXISTS mineral_mg;
DROP DOMAIN IF EXISTS vitamin_mcg;
DROP DOMAIN IF EXISTS macronutrient_g;
DROP DOMAIN IF EXISTS energy_volume_numeric;
COMMIT;
