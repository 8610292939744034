-- 0002_core_metrics: the four core (non-partitioned) metric tables and their
-- dedup keys (seed-facts §2.1), with the 15-300 bpm heart-rate range of the
-- original 0010/0011 migrations.
--
-- Deviations from the original project, all deliberate:
--   * id is "bigint GENERATED ALWAYS AS IDENTITY" instead of BIGSERIAL/UUID.
--   * The dedup keys are UNIQUE constraints from the start (the original added
--     them later, in 0008): heart_rate/blood_pressure (user_id, recorded_at),
--     sleep (user_id, sleep_start, sleep_end) -- which is exactly the ON
--     CONFLICT target the ingest upsert uses (seed-facts §10.16) --, workouts
--     (user_id, started_at).
--   * Every CHECK is named <table>_<column>_check so Go code and tests can map
--     a violation back to its column.
--   * Application-only rules (sleep stage sums within the duration tolerance,
--     GPS points) stay in the Go engine, as in the original.
BEGIN;

-- Shared BEFORE UPDATE trigger function (original 0008).
CREATE FUNCTION update_updated_at_column() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

CREATE TABLE heart_rate_metrics (
    id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id                uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    recorded_at            timestamptz NOT NULL,
    heart_rate             integer     NOT NULL,
    resting_heart_rate     integer,
    heart_rate_variability numeric(8,2),
    context                varchar(50),
    source                 varchar(100),
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT heart_rate_metrics_heart_rate_check
        CHECK (heart_rate BETWEEN 15 AND 300),
    CONSTRAINT heart_rate_metrics_resting_heart_rate_check
        CHECK (resting_heart_rate IS NULL OR resting_heart_rate BETWEEN 15 AND 300),
    CONSTRAINT heart_rate_metrics_heart_rate_variability_check
        CHECK (heart_rate_variability IS NULL OR heart_rate_variability BETWEEN 0 AND 500),
    CONSTRAINT heart_rate_metrics_context_check
        CHECK (context IS NULL OR context IN ('resting', 'exercise', 'sleep', 'stress', 'recovery', 'active')),
    CONSTRAINT heart_rate_metrics_user_recorded_key UNIQUE (user_id, recorded_at)
);

CREATE TABLE blood_pressure_metrics (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    recorded_at timestamptz NOT NULL,
    systolic    integer     NOT NULL,
    diastolic   integer     NOT NULL,
    pulse       integer,
    source      varchar(100),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT blood_pressure_metrics_systolic_check
        CHECK (systolic BETWEEN 50 AND 250),
    CONSTRAINT blood_pressure_metrics_diastolic_check
        CHECK (diastolic BETWEEN 30 AND 150),
    CONSTRAINT blood_pressure_metrics_pulse_check
        CHECK (pulse IS NULL OR pulse BETWEEN 15 AND 300),
    CONSTRAINT blood_pressure_metrics_systolic_diastolic_check
        CHECK (systolic > diastolic),
    CONSTRAINT blood_pressure_metrics_user_recorded_key UNIQUE (user_id, recorded_at)
);

CREATE TABLE sleep_metrics (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id             uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sleep_start         timestamptz NOT NULL,
    sleep_end           timestamptz NOT NULL,
    duration_minutes    integer,
    deep_sleep_minutes  integer,
    rem_sleep_minutes   integer,
    light_sleep_minutes integer,
    awake_minutes       integer,
    efficiency          numeric(5,2),
    source              varchar(100),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sleep_metrics_sleep_end_check
        CHECK (sleep_end > sleep_start),
    CONSTRAINT sleep_metrics_duration_minutes_check
        CHECK (duration_minutes IS NULL OR duration_minutes BETWEEN 0 AND 1440),
    CONSTRAINT sleep_metrics_deep_sleep_minutes_check
        CHECK (deep_sleep_minutes IS NULL OR deep_sleep_minutes >= 0),
    CONSTRAINT sleep_metrics_rem_sleep_minutes_check
        CHECK (rem_sleep_minutes IS NULL OR rem_sleep_minutes >= 0),
    CONSTRAINT sleep_metrics_light_sleep_minutes_check
        CHECK (light_sleep_minutes IS NULL OR light_sleep_minutes >= 0),
    CONSTRAINT sleep_metrics_awake_minutes_check
        CHECK (awake_minutes IS NULL OR awake_minutes >= 0),
    CONSTRAINT sleep_metrics_efficiency_check
        CHECK (efficiency IS NULL OR efficiency BETWEEN 0 AND 100),
    CONSTRAINT sleep_metrics_user_sleep_key UNIQUE (user_id, sleep_start, sleep_end)
);

CREATE TABLE workouts (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id           uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    workout_type      varchar(50) NOT NULL,
    started_at        timestamptz NOT NULL,
    ended_at          timestamptz NOT NULL,
    total_energy_kcal numeric(8,2),
    distance_meters   numeric(10,2),
    avg_heart_rate    integer,
    max_heart_rate    integer,
    source            varchar(100),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT workouts_workout_type_check
        CHECK (workout_type <> ''),
    CONSTRAINT workouts_duration_check
        CHECK (ended_at > started_at AND ended_at - started_at <= interval '24 hours'),
    CONSTRAINT workouts_total_energy_kcal_check
        CHECK (total_energy_kcal IS NULL OR total_energy_kcal BETWEEN 0 AND 20000),
    CONSTRAINT workouts_distance_meters_check
        CHECK (distance_meters IS NULL OR distance_meters BETWEEN 0 AND 500000),
    CONSTRAINT workouts_avg_heart_rate_check
        CHECK (avg_heart_rate IS NULL OR avg_heart_rate BETWEEN 15 AND 300),
    CONSTRAINT workouts_max_heart_rate_check
        CHECK (max_heart_rate IS NULL OR max_heart_rate BETWEEN 15 AND 300),
    CONSTRAINT workouts_user_started_key UNIQUE (user_id, started_at)
);

CREATE TRIGGER update_heart_rate_metrics_updated_at
    BEFORE UPDATE ON heart_rate_metrics
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
CREATE TRIGGER update_blood_pressure_metrics_updated_at
    BEFORE UPDATE ON blood_pressure_metrics
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
CREATE TRIGGER update_sleep_metrics_updated_at
    BEFORE UPDATE ON sleep_metrics
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
CREATE TRIGGER update_workouts_updated_at
    BEFORE UPDATE ON workouts
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

COMMIT;
