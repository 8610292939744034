BEGIN;
DROP FUNCTION IF EXISTS partition_summary(regclass);
DROP FUNCTION IF EXISTS maintain_partitions();
DROP FUNCTION IF EXISTS create_monthly_partitions(regclass, integer, integer);
DROP TABLE IF EXISTS partition_maintenance;
COMMIT;
