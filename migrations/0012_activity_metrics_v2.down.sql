BEGIN;
DROP VIEW IF EXISTS activity_metrics_v2_daily_summary;
DROP FUNCTION IF EXISTS analyze_activity_v2_performance();
DROP FUNCTION IF EXISTS create_activity_v2_monthly_partitions(integer, integer);
DROP TABLE IF EXISTS activity_metrics_v2;
COMMIT;
