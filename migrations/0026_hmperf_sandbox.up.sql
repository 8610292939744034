-- 0026_hmperf_sandbox: the schema that holds the twins of live tables, so
-- generated rows (sample ingest, the dashboard's ingest) on a database hmperf
-- did not create never land in the tables the service writes. The twins
-- themselves are made on demand by the ingest (CREATE TABLE ... (LIKE ...
-- INCLUDING ALL)), from the live layout of the moment.
BEGIN;

CREATE SCHEMA hmperf_sandbox;  -- not IF NOT EXISTS: the down drops it, so it must be ours

COMMENT ON SCHEMA hmperf_sandbox IS
    'hmperf sandbox: twins of live tables that receive generated rows; safe to drop (hmperf 0026).';

COMMIT;
