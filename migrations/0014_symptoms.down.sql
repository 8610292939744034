BEGIN;
DROP VIEW IF EXISTS symptoms_daily_summary;
DROP VIEW IF EXISTS symptoms_severity_summary;
DROP FUNCTION IF EXISTS analyze_symptoms_performance();
DROP FUNCTION IF EXISTS create_symptoms_monthly_partitions(integer, integer);
DROP TABLE IF EXISTS symptoms;
COMMIT;
