-- 0038_hmperf_write_handovers (hmperf): what a rollout's swap hands to the
-- write samplers that keep their state in memory.
--
-- The write sampler skips hmperf's schemas, so it first sees a rollout's
-- incoming table when the swap gives it the live name, with the rows the
-- backfill copied already in its counters, and it stops seeing the
-- outgoing table with what the service wrote to it since its last sample.
-- A swap (and a swap back) stores the sampler's previous counters in
-- hmperf.write_sample_tables for the stored sampler; a sampler that keeps
-- them in memory (a monitoring role, --read-only) reads them here:
--
--   * hmperf.write_handovers: per table or partition of both tables, its
--     published counters as the exchange saw them (incoming: the table
--     that takes the live name), and when. Rows stay two hours, as
--     hmperf.own_writes' do: no sampler looks further back.
BEGIN;

CREATE TABLE hmperf.write_handovers (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    relid       oid         NOT NULL,
    incoming    boolean     NOT NULL,
    n_tup_ins   bigint      NOT NULL,
    n_tup_upd   bigint      NOT NULL,
    n_tup_del   bigint      NOT NULL,
    n_dead_tup  bigint      NOT NULL,
    maintenance bigint      NOT NULL,
    handed_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE INDEX idx_write_handovers_relid ON hmperf.write_handovers (relid, handed_at);

COMMENT ON TABLE hmperf.write_handovers IS
    'The counters a rollout''s swap handed over to the write samplers, per table or partition of the outgoing and the incoming table: samplers that keep their state in memory read them.';

COMMIT;
