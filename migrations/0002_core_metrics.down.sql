BEGIN;
DROP TABLE IF EXISTS workouts;
DROP TABLE IF EXISTS sleep_metrics;
DROP TABLE IF EXISTS blood_pressure_metrics;
DROP TABLE IF EXISTS heart_rate_metrics;
DROP FUNCTION IF EXISTS update_updated_at_column();
COMMIT;
