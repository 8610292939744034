BEGIN;
DROP TABLE IF EXISTS hmperf_failing_never;
DROP TABLE IF EXISTS hmperf_failing_probe;
COMMIT;
