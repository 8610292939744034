-- 0025_hmperf_write_sampling down: the view as 0024 left it, and every
-- object 0025 added.
BEGIN;

DROP VIEW real_time_constraint_performance;
CREATE VIEW real_time_constraint_performance AS
SELECT h.table_name,
       h.hour_bucket,
       h.samples,
       h.rows,
       h.seconds,
       CASE WHEN h.seconds > 0 THEN h.rows / h.seconds END   AS rows_per_sec,
       CASE WHEN h.rows > 0 THEN h.seconds * 1000000.0 / h.rows END
                                                             AS ms_per_1000_rows,
       CASE WHEN h.overhead_n > 0 THEN h.overhead_sum / h.overhead_n END
                                                             AS constraint_overhead_pct,
       h.failures,
       CASE WHEN h.cache_hits + h.cache_misses > 0
            THEN 100.0 * h.cache_hits / (h.cache_hits + h.cache_misses)::double precision
       END                                                   AS cache_hit_rate
  FROM hmperf.constraint_performance_hourly h
 WHERE h.hour_bucket >= date_trunc('hour', now() - interval '48 hours');

-- 0023's comment, which DROP VIEW took with it.
COMMENT ON VIEW real_time_constraint_performance IS
    'Per table and hour (last 48 h): rows, rows/s, ms per 1000 rows, average constraint overhead %, constraint failures, cache hit rate %.';

DROP TRIGGER IF EXISTS write_sampling_own_rows ON hmperf.ingest_batch_stats;
DROP FUNCTION IF EXISTS hmperf.sample_writes(boolean);
DROP FUNCTION IF EXISTS hmperf.write_sampling_skips(oid);
DROP FUNCTION IF EXISTS hmperf.write_sampling_own_rows();
DROP TABLE IF EXISTS hmperf.observed_sample_hours;
DROP TABLE IF EXISTS hmperf.observed_writes_hourly;
DROP TABLE IF EXISTS hmperf.write_sample_carry;
DROP TABLE IF EXISTS hmperf.write_sample_own_rows;
DROP TABLE IF EXISTS hmperf.write_sample_statements;
DROP TABLE IF EXISTS hmperf.write_sample_tables;
DROP TABLE IF EXISTS hmperf.write_sampler;

COMMIT;
