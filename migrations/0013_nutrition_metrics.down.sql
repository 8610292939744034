BEGIN;
DROP VIEW IF EXISTS nutrition_metrics_daily_summary;
DROP FUNCTION IF EXISTS analyze_nutrition_performance();
DROP FUNCTION IF EXISTS create_nutrition_monthly_partitions(integer, integer);
DROP TABLE IF EXISTS nutrition_metrics;
COMMIT;
