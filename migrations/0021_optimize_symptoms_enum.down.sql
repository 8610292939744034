BEGIN;
DROP FUNCTION IF EXISTS benchmark_symptoms_insert_performance(integer);
DROP FUNCTION IF EXISTS migrate_symptoms_to_optimized();
DELETE FROM hmperf.partition_maintenance
 WHERE parent_table IN ('symptoms_optimized', 'symptoms_unconstrained');
DROP TABLE IF EXISTS symptoms_unconstrained;
DROP TABLE IF EXISTS symptoms_optimized;
DROP TYPE IF EXISTS symptom_severity_enum;
DROP TYPE IF EXISTS symptom_type_enum;
COMMIT;
