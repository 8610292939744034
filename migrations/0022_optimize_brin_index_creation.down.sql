BEGIN;
DROP VIEW IF EXISTS index_creation_performance;
DROP FUNCTION IF EXISTS auto_process_deferred_indexes();
DROP FUNCTION IF EXISTS hmperf.safe_regclass(text);
DROP FUNCTION IF EXISTS hmperf.enqueue_partition_indexes(regclass);
DROP FUNCTION IF EXISTS hmperf.partition_index_name(regclass, text, text[]);
DROP TABLE IF EXISTS deferred_index_creation;
DROP TABLE IF EXISTS index_creation_strategy;
COMMIT;
