BEGIN;
DROP TABLE IF EXISTS hmperf.ingest_rejections;
DROP TABLE IF EXISTS hmperf.ingest_batch_stats;
COMMIT;
