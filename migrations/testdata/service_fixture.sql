-- service_fixture.sql: a database laid out the way the ingest service's own
-- migrations lay it out, written for hmperf's tests. It is not the service's
-- schema; it reproduces the differences that matter to hmperf:
--   * a sqlx version table (_sqlx_migrations) and no hmperf schema;
--   * users.email NOT NULL without a default;
--   * uuid ids on the older metric tables, the device column named
--     source_device, and columns hmperf's base tables have but these lack
--     (heart_rate_variability, avg_heart_rate, efficiency) or name otherwise;
--   * monthly partitions of its own and no DEFAULT partition;
--   * functions of its own named create_monthly_partitions (text arguments)
--     and maintain_partitions(), which hmperf's helpers must not collide with;
--   * tables hmperf knows nothing about (api_keys).
-- Partition months are created relative to today, so the file never ages.
--   * sleep_metrics keeps the service's sleep_duration_consistency CHECK
--     (duration >= deep + rem + light + awake) and duration_minutes > 0.

CREATE TABLE _sqlx_migrations (
    version        bigint      PRIMARY KEY,
    description    text        NOT NULL,
    installed_on   timestamptz NOT NULL DEFAULT now(),
    success        boolean     NOT NULL,
    checksum       bytea       NOT NULL,
    execution_time bigint      NOT NULL
);

INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
SELECT 20250100000000 + v, 'service step ' || v, true, sha256(v::text::bytea), 1000 * v
  FROM generate_series(1, 17) AS v;

CREATE TABLE users (
    id         uuid         PRIMARY KEY DEFAULT gen_random_uuid(),
    email      varchar(255) NOT NULL UNIQUE,
    full_name  varchar(255),
    created_at timestamptz  DEFAULT now(),
    is_active  boolean      DEFAULT true
);

CREATE TABLE api_keys (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    uuid        NOT NULL REFERENCES users (id),
    key_hash   text        NOT NULL,
    created_at timestamptz DEFAULT now()
);

CREATE TABLE heart_rate_metrics (
    id                 uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id            uuid        NOT NULL REFERENCES users (id),
    recorded_at        timestamptz NOT NULL,
    heart_rate         integer     NOT NULL CHECK (heart_rate BETWEEN 15 AND 300),
    resting_heart_rate integer,
    context            varchar(50),
    source_device      varchar(100),
    metadata           jsonb,
    created_at         timestamptz DEFAULT now(),
    UNIQUE (user_id, recorded_at)
);

CREATE TABLE blood_pressure_metrics (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       uuid        NOT NULL REFERENCES users (id),
    recorded_at   timestamptz NOT NULL,
    systolic      integer     NOT NULL,
    diastolic     integer     NOT NULL,
    pulse         integer,
    source_device varchar(100),
    created_at    timestamptz DEFAULT now(),
    UNIQUE (user_id, recorded_at)
);

CREATE TABLE sleep_metrics (
    id                  uuid         PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id             uuid         NOT NULL REFERENCES users (id),
    sleep_start         timestamptz  NOT NULL,
    sleep_end           timestamptz  NOT NULL,
    duration_minutes    integer      NOT NULL,
    deep_sleep_minutes  integer,
    rem_sleep_minutes   integer,
    light_sleep_minutes integer,
    awake_minutes       integer,
    sleep_efficiency    numeric(5,2),
    source_device       varchar(100),
    created_at          timestamptz  DEFAULT now(),
    -- The service's own cross-field rule (its dump, sleep_metrics): the
    -- stages and the awake time are parts of the duration.
    CONSTRAINT sleep_duration_consistency CHECK (duration_minutes >= COALESCE(deep_sleep_minutes, 0) + COALESCE(rem_sleep_minutes, 0)
        + COALESCE(light_sleep_minutes, 0) + COALESCE(awake_minutes, 0)),
    CONSTRAINT sleep_metrics_duration_minutes_check CHECK (duration_minutes > 0),
    UNIQUE (user_id, sleep_start)
);

CREATE TABLE workouts (
    id                 uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id            uuid          NOT NULL REFERENCES users (id),
    workout_type       varchar(50)   NOT NULL,
    started_at         timestamptz   NOT NULL,
    ended_at           timestamptz   NOT NULL,
    distance_meters    numeric(10,2),
    average_heart_rate integer,
    max_heart_rate     integer,
    total_energy_kcal  numeric(8,2),
    source_device      varchar(100),
    created_at         timestamptz   DEFAULT now(),
    UNIQUE (user_id, started_at)
);

CREATE TABLE activity_metrics_v2 (
    id                        bigserial,
    user_id                   uuid          NOT NULL,
    recorded_at               timestamptz   NOT NULL,
    step_count                integer,
    flights_climbed           integer,
    active_energy_burned_kcal numeric(8,2),
    aggregation_period        varchar(20)   DEFAULT 'hourly',
    source                    varchar(100),
    created_at                timestamptz   NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, recorded_at),
    CHECK (step_count IS NULL OR step_count BETWEEN 0 AND 200000)
) PARTITION BY RANGE (recorded_at);

CREATE TABLE nutrition_metrics (
    id                   bigserial,
    user_id              uuid         NOT NULL,
    recorded_at          timestamptz  NOT NULL,
    water_ml             numeric(8,2),
    energy_consumed_kcal numeric(8,2),
    protein_g            numeric(8,2),
    source               varchar(100),
    aggregation_period   varchar(20)  DEFAULT 'daily',
    created_at           timestamptz  NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, recorded_at)
) PARTITION BY RANGE (recorded_at);

CREATE TABLE symptoms (
    id           bigserial,
    user_id      uuid         NOT NULL,
    recorded_at  timestamptz  NOT NULL,
    symptom_type varchar(50)  NOT NULL,
    severity     varchar(20)  NOT NULL DEFAULT 'not_present',
    source       varchar(100) DEFAULT 'manual',
    created_at   timestamptz  NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, recorded_at, symptom_type)
) PARTITION BY RANGE (recorded_at);

-- The service's own partition helper, with text arguments: an hmperf
-- function of the same name in the same schema would be an overload that
-- makes the calls below ambiguous.
CREATE FUNCTION create_monthly_partitions(table_name text, date_column text,
                                          start_months_back integer DEFAULT 1,
                                          end_months_ahead integer DEFAULT 3)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    m date;
BEGIN
    FOR i IN -start_months_back .. end_months_ahead LOOP
        m := (date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => i))::date;
        EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                       table_name || '_' || to_char(m, 'YYYY_MM'), table_name,
                       m::timestamp AT TIME ZONE 'UTC', (m + interval '1 month')::timestamp AT TIME ZONE 'UTC');
    END LOOP;
END;
$$;

CREATE FUNCTION maintain_partitions() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM create_monthly_partitions('activity_metrics_v2', 'recorded_at');
    PERFORM create_monthly_partitions('nutrition_metrics', 'recorded_at');
    PERFORM create_monthly_partitions('symptoms', 'recorded_at');
END;
$$;

SELECT maintain_partitions();
