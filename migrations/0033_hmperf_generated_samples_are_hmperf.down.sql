-- 0033 down: the ingest samples are labelled with the tables' names again,
-- stored ones included, and hmperf.monitor_ingest_batch_stats() is 0027's.
BEGIN;

CREATE OR REPLACE FUNCTION hmperf.monitor_ingest_batch_stats() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO constraint_performance_monitor
           (table_name, measured_at, source, source_ref, rows, seconds,
            constraint_overhead_pct, failures, validation_rejected, cache_hits, cache_misses)
    SELECT b.table_name, b.recorded_at, 'ingest', b.id, b.received,
           (b.validate_ms + b.dedup_ms + b.write_ms) / 1000.0,
           NULL, b.constraint_failures, b.validation_rejected, b.cache_hits, b.cache_misses
      FROM new_rows b;
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION hmperf.monitor_ingest_batch_stats() IS NULL;

UPDATE constraint_performance_monitor
   SET table_name = substr(table_name, length('hmperf_sample.') + 1)
 WHERE source = 'ingest' AND table_name LIKE 'hmperf\_sample.%';

COMMIT;
