-- 0014_symptoms (seed-facts §4): symptom episodes, monthly range partitions
-- on recorded_at.
--
-- Kept as in the original (the benchmark baseline): columns and types, the
-- symptom_type CHECK listing all 68 distinct values (the original's comments
-- said "39+" and "67"; the list really has 68), the severity CHECK, duration
-- 0-10080 minutes, PK (user_id, recorded_at, symptom_type), id BIGSERIAL (not
-- unique, as in the original), source DEFAULT 'manual', and the two
-- time-dependent CHECKs symptoms_onset_check (onset_at <= now()) and
-- symptoms_recorded_at_check (1900-01-01 .. now() + 1 day).
--
-- KNOWN ISSUE kept on purpose (seed-facts §10.12): those two CHECKs call
-- now(), which is not immutable. PostgreSQL documents that CHECK expressions
-- must be immutable: a row valid today may fail a later re-check (restore,
-- re-insert by create_monthly_partitions' DEFAULT-partition move), and a client
-- clock running ahead makes inserts fail. They stay CHECKs because they are
-- the benchmark baseline; the tests cover both bounds. A far-future row
-- therefore cannot be inserted into symptoms even though a partition (the
-- DEFAULT one) exists for it.
--
-- Deviations, all deliberate:
--   * The lower bound of symptoms_recorded_at_check is the UTC instant
--     '1900-01-01 00:00:00+00' (the original wrote '1900-01-01', read in the
--     session time zone).
--   * triggers/treatments get CHECKs that they are JSON arrays when not NULL
--     (symptoms_triggers_check, symptoms_treatments_check); the original only
--     said so in a comment.
--   * The inline CHECKs get the names PostgreSQL gave them:
--     symptoms_symptom_type_check, symptoms_severity_check,
--     symptoms_duration_minutes_check.
--   * No UNIQUE next to the identical PK (§10.10); a DEFAULT partition
--     symptoms_default; no per-partition index copies (§10.10).
--   * Dropped the BRIN on (user_id, recorded_at) and on
--     (symptom_type, recorded_at) (§10.11: they prune almost nothing). Kept
--     BRIN (recorded_at), the B-tree (user_id, symptom_type, recorded_at), the
--     partial B-trees on severity and onset and the partial GIN indexes on
--     triggers and treatments.
--   * create_symptoms_monthly_partitions returns the number created (was void);
--     analyze_symptoms_performance() finds partitions through pg_inherits
--     (§10.14).
--   * The views group by UTC day. In symptoms_severity_summary
--     max_severity_score is 0 (not NULL) when a day only has not_present rows.
BEGIN;

CREATE TABLE symptoms (
    id               bigserial,
    user_id          uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    recorded_at      timestamptz NOT NULL,
    symptom_type     varchar(50) NOT NULL,
    severity         varchar(20) NOT NULL DEFAULT 'not_present',
    duration_minutes integer,
    onset_at         timestamptz,
    notes            text,
    triggers         jsonb,
    treatments       jsonb,
    source           varchar(100) DEFAULT 'manual',
    raw_data         jsonb,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT symptoms_pkey PRIMARY KEY (user_id, recorded_at, symptom_type),
    CONSTRAINT symptoms_symptom_type_check CHECK (symptom_type IN (
        -- General/constitutional (9)
        'fever', 'fatigue', 'weakness', 'night_sweats', 'chills', 'malaise', 'appetite_loss', 'weight_loss', 'weight_gain',
        -- Head/neurological (9)
        'headache', 'dizziness', 'lightheadedness', 'confusion', 'memory_issues', 'concentration_difficulty', 'mood_changes', 'anxiety', 'depression',
        -- Respiratory (8)
        'cough', 'shortness_of_breath', 'chest_tightness_or_pain', 'wheezing', 'runny_nose', 'sinus_congestion', 'sneezing', 'sore_throat',
        -- Gastrointestinal (11)
        'nausea', 'vomiting', 'abdominal_cramps', 'bloating', 'diarrhea', 'constipation', 'heartburn', 'acid_reflux', 'stomach_pain', 'gas', 'indigestion',
        -- Musculoskeletal/pain (7)
        'body_and_muscle_aches', 'joint_pain', 'back_pain', 'neck_pain', 'muscle_cramps', 'stiffness', 'swelling',
        -- Skin (5)
        'dry_skin', 'rash', 'itching', 'acne', 'skin_irritation',
        -- Genitourinary/reproductive (5)
        'pelvic_pain', 'vaginal_dryness', 'bladder_incontinence', 'frequent_urination', 'painful_urination',
        -- Sleep (4)
        'sleep_changes', 'insomnia', 'excessive_sleepiness', 'sleep_disturbances',
        -- Sensory (4)
        'vision_changes', 'hearing_changes', 'taste_changes', 'smell_changes',
        -- Other (6)
        'hot_flashes', 'cold_intolerance', 'heat_intolerance', 'hair_loss', 'tremor', 'irregular_heartbeat'
    )),
    CONSTRAINT symptoms_severity_check
        CHECK (severity IN ('not_present', 'mild', 'moderate', 'severe')),
    CONSTRAINT symptoms_duration_minutes_check
        CHECK (duration_minutes IS NULL OR (duration_minutes >= 0 AND duration_minutes <= 10080)),
    CONSTRAINT symptoms_onset_check
        CHECK (onset_at IS NULL OR onset_at <= now()),
    CONSTRAINT symptoms_recorded_at_check
        CHECK (recorded_at >= '1900-01-01 00:00:00+00' AND recorded_at <= now() + interval '1 day'),
    CONSTRAINT symptoms_triggers_check
        CHECK (triggers IS NULL OR jsonb_typeof(triggers) = 'array'),
    CONSTRAINT symptoms_treatments_check
        CHECK (treatments IS NULL OR jsonb_typeof(treatments) = 'array')
) PARTITION BY RANGE (recorded_at);

CREATE TABLE symptoms_default PARTITION OF symptoms DEFAULT;

CREATE INDEX idx_symptoms_recorded_at_brin ON symptoms USING brin (recorded_at);
CREATE INDEX idx_symptoms_user_type_recorded ON symptoms (user_id, symptom_type, recorded_at);
CREATE INDEX idx_symptoms_user_severity_recorded ON symptoms (user_id, severity, recorded_at)
    WHERE severity <> 'not_present';
CREATE INDEX idx_symptoms_user_onset ON symptoms (user_id, onset_at)
    WHERE onset_at IS NOT NULL;
CREATE INDEX idx_symptoms_triggers ON symptoms USING gin (triggers)
    WHERE triggers IS NOT NULL;
CREATE INDEX idx_symptoms_treatments ON symptoms USING gin (treatments)
    WHERE treatments IS NOT NULL;

CREATE FUNCTION create_symptoms_monthly_partitions(
    start_months_back integer DEFAULT 1,
    end_months_ahead integer DEFAULT 3
) RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN
    RETURN hmperf.create_monthly_partitions('symptoms'::regclass, start_months_back, end_months_ahead);
END;
$$;

CREATE FUNCTION analyze_symptoms_performance()
RETURNS TABLE (
    table_name              text,
    partition_count         bigint,
    total_rows              bigint,
    avg_rows_per_partition  bigint,
    oldest_data             timestamptz,
    newest_data             timestamptz,
    unique_symptoms_tracked bigint,
    severity_distribution   jsonb
)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN QUERY SELECT s.table_name, s.partition_count, s.total_rows, s.avg_rows_per_partition,
           s.oldest_data, s.newest_data,
           (SELECT count(DISTINCT y.symptom_type) FROM symptoms y),
           (SELECT coalesce(jsonb_object_agg(d.severity, d.n), '{}'::jsonb)
              FROM (SELECT y.severity, count(*) AS n FROM symptoms y GROUP BY y.severity) d)
      FROM hmperf.partition_summary('symptoms'::regclass) s;
END;
$$;

CREATE VIEW symptoms_severity_summary AS
WITH scored AS (
    SELECT s.*,
           (s.recorded_at AT TIME ZONE 'UTC')::date AS symptom_date,
           CASE s.severity WHEN 'severe' THEN 3 WHEN 'moderate' THEN 2 WHEN 'mild' THEN 1 ELSE 0 END AS severity_score
      FROM symptoms s
)
SELECT user_id,
       symptom_date,
       symptom_type,
       coalesce(max(severity_score) FILTER (WHERE severity <> 'not_present'), 0) AS max_severity_score,
       count(*) FILTER (WHERE severity <> 'not_present')                         AS symptom_episodes,
       sum(duration_minutes) FILTER (WHERE severity <> 'not_present')            AS total_duration_minutes,
       avg(duration_minutes) FILTER (WHERE severity <> 'not_present')            AS avg_duration_minutes,
       min(recorded_at) FILTER (WHERE severity <> 'not_present')                 AS first_episode,
       max(recorded_at) FILTER (WHERE severity <> 'not_present')                 AS last_episode,
       array_agg(DISTINCT source) FILTER (WHERE severity <> 'not_present' AND source IS NOT NULL) AS data_sources,
       count(*) FILTER (WHERE jsonb_typeof(triggers) = 'array' AND jsonb_array_length(triggers) > 0)     AS episodes_with_triggers,
       count(*) FILTER (WHERE jsonb_typeof(treatments) = 'array' AND jsonb_array_length(treatments) > 0) AS episodes_with_treatments
  FROM scored
 GROUP BY user_id, symptom_date, symptom_type;

CREATE VIEW symptoms_daily_summary AS
WITH scored AS (
    SELECT s.*,
           (s.recorded_at AT TIME ZONE 'UTC')::date AS symptom_date,
           CASE s.severity WHEN 'severe' THEN 3 WHEN 'moderate' THEN 2 WHEN 'mild' THEN 1 ELSE 0 END AS severity_score
      FROM symptoms s
)
SELECT user_id,
       symptom_date,
       count(DISTINCT symptom_type) FILTER (WHERE severity <> 'not_present') AS unique_symptoms_count,
       count(*) FILTER (WHERE severity = 'severe')                           AS severe_symptoms_count,
       count(*) FILTER (WHERE severity = 'moderate')                         AS moderate_symptoms_count,
       count(*) FILTER (WHERE severity = 'mild')                             AS mild_symptoms_count,
       array_agg(symptom_type ORDER BY severity_score DESC, symptom_type)
           FILTER (WHERE severity <> 'not_present')                          AS symptoms_by_severity,
       sum(duration_minutes) FILTER (WHERE severity <> 'not_present')        AS total_symptom_duration_minutes,
       count(*) FILTER (WHERE jsonb_typeof(triggers) = 'array' AND jsonb_array_length(triggers) > 0)     AS symptoms_with_triggers,
       count(*) FILTER (WHERE jsonb_typeof(treatments) = 'array' AND jsonb_array_length(treatments) > 0) AS symptoms_with_treatments,
       sum(severity_score)                                                   AS daily_symptom_burden_score
  FROM scored
 GROUP BY user_id, symptom_date;

COMMIT;
