-- 0035_hmperf_rollouts: the state of `hmperf rollout`, which moves a live
-- table to its optimized layout online (queries/rollout). One row per
-- rollout; the twin is built in schema hmperf_rollout_new and, after the
-- swap, the original table waits in hmperf_rollout_old until `finish`
-- drops it or `revert` brings it back. The change-capture log and trigger
-- function of each rollout are made by `rollout start` in schema hmperf and
-- dropped by `finish` or `revert`.
BEGIN;

CREATE TABLE hmperf.rollouts (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    table_schema  text        NOT NULL,
    table_name    text        NOT NULL,
    phase         text        NOT NULL,
    key_columns   text[]      NOT NULL,
    -- high_water is the key of the last live row the backfill copied, as
    -- text in key order; NULL before the first batch.
    high_water    text[],
    backfill_done boolean     NOT NULL DEFAULT false,
    rows_copied   bigint      NOT NULL DEFAULT 0,
    rows_estimate bigint      NOT NULL DEFAULT 0,
    -- enum_types are the types the rollout created for the twin, which
    -- move with it at the swap.
    enum_types    text[]      NOT NULL DEFAULT '{}',
    -- views are the definitions of the views that read the table as
    -- they were before the swap, which revert restores.
    views         jsonb       NOT NULL DEFAULT '[]',
    forced        text,
    quarantine    text,
    quarantined   bigint      NOT NULL DEFAULT 0,
    throttle      text,
    rate          double precision,
    lock_held_ms  double precision,
    started_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    swapped_at    timestamptz,
    ended_at      timestamptz,
    CONSTRAINT rollouts_phase_check
        CHECK (phase IN ('started', 'swapped', 'reverted', 'finished'))
);

-- One rollout in flight per table.
CREATE UNIQUE INDEX rollouts_one_open ON hmperf.rollouts (table_schema, table_name)
    WHERE phase IN ('started', 'swapped');

CREATE SCHEMA hmperf_rollout_new;  -- not IF NOT EXISTS: the down drops it, so it must be ours
CREATE SCHEMA hmperf_rollout_old;

COMMENT ON SCHEMA hmperf_rollout_new IS
    'hmperf rollout: twins of live tables in their optimized layout, before the swap (hmperf 0035).';
COMMENT ON SCHEMA hmperf_rollout_old IS
    'hmperf rollout: original tables after the swap, kept current for revert until finish (hmperf 0035).';

COMMIT;
