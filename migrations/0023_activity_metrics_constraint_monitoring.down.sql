BEGIN;
DROP FUNCTION IF EXISTS check_constraint_performance_alerts();
DROP TABLE IF EXISTS constraint_alert_thresholds;
DROP VIEW IF EXISTS real_time_constraint_performance;
DROP TRIGGER IF EXISTS monitor_benchmark_results ON hmperf.benchmark_results;
DROP FUNCTION IF EXISTS hmperf.monitor_benchmark_results();
DROP TRIGGER IF EXISTS monitor_ingest_batch_stats ON hmperf.ingest_batch_stats;
DROP FUNCTION IF EXISTS hmperf.monitor_ingest_batch_stats();
DROP TABLE IF EXISTS constraint_performance_monitor;
DROP FUNCTION IF EXISTS benchmark_activity_constraint_performance(integer);
DELETE FROM hmperf.partition_maintenance
 WHERE parent_table IN ('activity_metrics_v2_optimized', 'activity_metrics_v2_unconstrained');
DROP TABLE IF EXISTS activity_metrics_v2_unconstrained;
DROP TABLE IF EXISTS activity_metrics_v2_optimized;
DROP FUNCTION IF EXISTS validate_activity_metrics_v2_optimized();
COMMIT;
