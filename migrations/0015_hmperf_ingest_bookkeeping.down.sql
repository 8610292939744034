BEGIN;
DROP TABLE IF EXISTS ingest_rejections;
DROP TABLE IF EXISTS ingest_batch_stats;
COMMIT;
