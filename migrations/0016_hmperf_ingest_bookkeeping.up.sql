-- 0016_hmperf_ingest_bookkeeping: hmperf's own tables (not in the original
-- project). The ingest engine writes one ingest_batch_stats row per batch and
-- one ingest_rejections row per rejected record; the dashboard polls both by
-- time. Every record is accounted for:
-- received = inserted + duplicates + rejected + unsupported.
BEGIN;

CREATE TABLE hmperf.ingest_batch_stats (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id            uuid             NOT NULL,
    batch_no          integer          NOT NULL,
    table_name        text             NOT NULL,
    context           text             NOT NULL,
    received          integer          NOT NULL,
    inserted          integer          NOT NULL,
    duplicates        integer          NOT NULL,
    rejected          integer          NOT NULL,
    unsupported       integer          NOT NULL,
    unvalidated       integer          NOT NULL DEFAULT 0,
    validate_ms       double precision NOT NULL DEFAULT 0,
    dedup_ms          double precision NOT NULL DEFAULT 0,
    write_ms          double precision NOT NULL DEFAULT 0,
    cache_hits        bigint           NOT NULL DEFAULT 0,
    cache_misses      bigint           NOT NULL DEFAULT 0,
    rejects_by_reason jsonb            NOT NULL DEFAULT '{}',
    recorded_at       timestamptz      NOT NULL DEFAULT now(),
    CONSTRAINT ingest_batch_stats_accounting_check
        CHECK (received = inserted + duplicates + rejected + unsupported),
    CONSTRAINT ingest_batch_stats_counts_check
        CHECK (batch_no >= 0 AND received >= 0 AND inserted >= 0 AND duplicates >= 0
               AND rejected >= 0 AND unsupported >= 0 AND unvalidated >= 0
               AND cache_hits >= 0 AND cache_misses >= 0),
    CONSTRAINT ingest_batch_stats_timings_check
        CHECK (validate_ms >= 0 AND dedup_ms >= 0 AND write_ms >= 0)
);

CREATE INDEX idx_ingest_batch_stats_recorded_at ON hmperf.ingest_batch_stats (recorded_at);
CREATE INDEX idx_ingest_batch_stats_run_id ON hmperf.ingest_batch_stats (run_id);

COMMENT ON TABLE hmperf.ingest_batch_stats IS
    'One row per ingest batch (hmperf): counts, timings, cache hits/misses, rejects by reason. received = inserted + duplicates + rejected + unsupported.';

CREATE TABLE hmperf.ingest_rejections (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id       uuid        NOT NULL,
    batch_no     integer     NOT NULL,
    table_name   text,
    record_index bigint      NOT NULL,
    reasons      jsonb       NOT NULL,
    record       jsonb,
    rejected_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX idx_ingest_rejections_rejected_at ON hmperf.ingest_rejections (rejected_at);

COMMENT ON TABLE hmperf.ingest_rejections IS
    'Every record the ingest engine rejected (hmperf), with the reasons and the record itself.';

COMMIT;
