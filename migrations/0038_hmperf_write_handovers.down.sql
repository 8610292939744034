-- 0038_hmperf_write_handovers down: samplers in memory are no longer handed
-- a swap's counters.
BEGIN;

DROP TABLE hmperf.write_handovers;

COMMIT;
