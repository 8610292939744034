BEGIN;
DROP TABLE IF EXISTS hmperf.benchmark_results;
DROP TABLE IF EXISTS hmperf.benchmark_runs;
COMMIT;
