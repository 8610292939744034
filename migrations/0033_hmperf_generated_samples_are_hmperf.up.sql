-- 0033_hmperf_generated_samples_are_hmperf: a sample ingest is hmperf's own
-- work, never a page.
--
-- 0029 and 0031 keep the sandbox's and the benchmarks' samples out of the
-- alerts, but a generated sample written to the live tables (`ingest
-- --sample --target live`, the dashboard's sample ingest on hmperf's own
-- database) still became monitor samples under the live tables' names: its
-- generated invalid records (--invalid-rate) could fire
-- validation_rejections_high, and on-call would be paged for data hmperf
-- made up.
--
--   * hmperf's ingest marks the transaction of every batch of generated
--     records with the setting hmperf.generated = 'on' (set_config, local to
--     the transaction). hmperf.monitor_ingest_batch_stats() then labels the
--     batch's samples 'hmperf_sample.' || table: they still show on the
--     Constraints panel, under that label, and the alert function (0031)
--     skips every label in hmperf's own namespace. Payload imports (--file)
--     carry no mark: their records are real data and alert as before.
--   * The function is 0027's with the label added; samples stored before
--     this migration cannot be told apart and keep their names.
BEGIN;

CREATE OR REPLACE FUNCTION hmperf.monitor_ingest_batch_stats() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_prefix text := CASE WHEN current_setting('hmperf.generated', true) = 'on'
                          THEN 'hmperf_sample.' ELSE '' END;
BEGIN
    INSERT INTO constraint_performance_monitor
           (table_name, measured_at, source, source_ref, rows, seconds,
            constraint_overhead_pct, failures, validation_rejected, cache_hits, cache_misses)
    SELECT v_prefix || b.table_name, b.recorded_at, 'ingest', b.id, b.received,
           (b.validate_ms + b.dedup_ms + b.write_ms) / 1000.0,
           NULL, b.constraint_failures, b.validation_rejected, b.cache_hits, b.cache_misses
      FROM new_rows b;
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION hmperf.monitor_ingest_batch_stats() IS
    'One constraint_performance_monitor sample per ingest batch and table; a batch of generated records (hmperf.generated = on) is labelled hmperf_sample.<table>, which never alerts.';

COMMIT;
