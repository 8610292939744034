BEGIN;
DROP FUNCTION IF EXISTS hmperf.partition_summary(regclass);
DROP FUNCTION IF EXISTS hmperf.maintain_partitions();
DROP FUNCTION IF EXISTS hmperf.create_monthly_partitions(regclass, integer, integer);
DROP TABLE IF EXISTS hmperf.partition_maintenance;
COMMIT;
