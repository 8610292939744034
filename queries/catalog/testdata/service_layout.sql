-- service_layout.sql: tables laid out the way the health-metrics ingest
-- service lays out its own, written for hmperf's tests of the catalogue
-- mapping and the sandbox. Only the differences from hmperf's base
-- migrations that a writer meets are modelled:
--   * users.email NOT NULL without a default (and UNIQUE), ids uuid;
--   * metric ids uuid with a default, or bigserial on the partitioned ones;
--   * the device column called source_device on the older tables;
--   * columns under other names (sleep_efficiency, average_heart_rate), a
--     generated column, and columns hmperf's records carry that are absent
--     (heart_rate_variability, most nutrients);
--   * heart_rate_metrics without a unique key on (user_id, recorded_at),
--     only the plain index the dump has on those columns;
--   * monthly partitions around today, with a DEFAULT partition on symptoms
--     only, and nutrition partitioned in two levels.
--   * sleep_metrics keeps the service's sleep_duration_consistency CHECK
--     (duration >= deep + rem + light + awake) and duration_minutes > 0.

CREATE TABLE users (
    id           uuid         PRIMARY KEY DEFAULT gen_random_uuid(),
    email        varchar(255) NOT NULL UNIQUE,
    display_name text,
    created_at   timestamptz  DEFAULT now()
);

CREATE TABLE heart_rate_metrics (
    id                 uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id            uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    recorded_at        timestamptz NOT NULL,
    heart_rate         integer     NOT NULL CHECK (heart_rate BETWEEN 15 AND 300),
    resting_heart_rate integer,
    context            varchar(50),
    source_device      varchar(100),
    metadata           jsonb,
    created_at         timestamptz DEFAULT now()
);

CREATE INDEX idx_heart_rate_user_recorded ON heart_rate_metrics (user_id, recorded_at);

CREATE TABLE blood_pressure_metrics (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    recorded_at   timestamptz NOT NULL,
    systolic      integer     NOT NULL,
    diastolic     integer     NOT NULL,
    pulse         integer,
    source_device varchar(100),
    created_at    timestamptz DEFAULT now(),
    CONSTRAINT bp_user_time UNIQUE (user_id, recorded_at)
);

CREATE TABLE sleep_metrics (
    id                  uuid         PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id             uuid         NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sleep_start         timestamptz  NOT NULL,
    sleep_end           timestamptz  NOT NULL,
    duration_minutes    integer      NOT NULL,
    deep_sleep_minutes  integer,
    rem_sleep_minutes   integer,
    light_sleep_minutes integer,
    awake_minutes       integer,
    sleep_efficiency    numeric(5,2) CHECK (sleep_efficiency BETWEEN 0 AND 100),
    source_device       varchar(100),
    -- The service's own cross-field rule (its dump, sleep_metrics): the
    -- stages and the awake time are parts of the duration.
    CONSTRAINT sleep_duration_consistency CHECK (duration_minutes >= COALESCE(deep_sleep_minutes, 0) + COALESCE(rem_sleep_minutes, 0)
        + COALESCE(light_sleep_minutes, 0) + COALESCE(awake_minutes, 0)),
    CONSTRAINT sleep_metrics_duration_minutes_check CHECK (duration_minutes > 0),
    CONSTRAINT sleep_user_time UNIQUE (user_id, sleep_start, sleep_end)
);

CREATE TABLE workouts (
    id                 uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id            uuid          NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    workout_type       varchar(50)   NOT NULL,
    started_at         timestamptz   NOT NULL,
    ended_at           timestamptz   NOT NULL,
    distance_meters    numeric(10,2),
    average_heart_rate integer,
    max_heart_rate     integer,
    total_energy_kcal  numeric(8,2),
    source_device      varchar(100),
    duration_computed  integer GENERATED ALWAYS AS (extract(epoch FROM ended_at - started_at)) STORED,
    CONSTRAINT workouts_user_started UNIQUE (user_id, started_at)
);

CREATE TABLE activity_metrics_v2 (
    id                              bigserial,
    user_id                         uuid          NOT NULL,
    recorded_at                     timestamptz   NOT NULL,
    step_count                      integer,
    flights_climbed                 integer,
    distance_walking_running_meters numeric(10,2),
    distance_cycling_meters         numeric(10,2),
    distance_swimming_meters        numeric(10,2),
    distance_wheelchair_meters      numeric(10,2),
    distance_downhill_snow_sports_meters numeric(10,2),
    push_count                      integer,
    swimming_stroke_count           integer,
    nike_fuel                       numeric(8,2),
    active_energy_burned_kcal       numeric(8,2),
    basal_energy_burned_kcal        numeric(8,2),
    exercise_time_minutes           integer,
    stand_time_minutes              integer,
    move_time_minutes               integer,
    stand_hour_achieved             boolean       DEFAULT false,
    aggregation_period              varchar(20)   DEFAULT 'hourly',
    source                          varchar(100),
    raw_data                        jsonb,
    created_at                      timestamptz   NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, recorded_at)
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
    duration_minutes integer,
    onset_at     timestamptz,
    notes        text,
    triggers     jsonb,
    treatments   jsonb,
    source       varchar(100) DEFAULT 'manual',
    created_at   timestamptz  NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, recorded_at, symptom_type)
) PARTITION BY RANGE (recorded_at);

CREATE TABLE symptoms_other PARTITION OF symptoms DEFAULT;

-- Months from three back to two ahead of today, so the file never ages.
-- nutrition_metrics has one partition for the whole span, itself split by
-- month, to model a second level.
DO $$
DECLARE
    first date := (date_trunc('month', now() AT TIME ZONE 'UTC') - interval '3 months')::date;
    m     date;
BEGIN
    EXECUTE format('CREATE TABLE nutrition_metrics_span PARTITION OF nutrition_metrics FOR VALUES FROM (%L) TO (%L) PARTITION BY RANGE (recorded_at)',
                   first, first + interval '6 months');
    FOR i IN 0 .. 5 LOOP
        m := (first + make_interval(months => i))::date;
        EXECUTE format('CREATE TABLE %I PARTITION OF activity_metrics_v2 FOR VALUES FROM (%L) TO (%L)',
                       'activity_metrics_v2_' || to_char(m, 'YYYY_MM'), m, m + interval '1 month');
        EXECUTE format('CREATE TABLE %I PARTITION OF symptoms FOR VALUES FROM (%L) TO (%L)',
                       'symptoms_' || to_char(m, 'YYYY_MM'), m, m + interval '1 month');
        EXECUTE format('CREATE TABLE %I PARTITION OF nutrition_metrics_span FOR VALUES FROM (%L) TO (%L)',
                       'nutrition_metrics_' || to_char(m, 'YYYY_MM'), m, m + interval '1 month');
    END LOOP;
END
$$;
