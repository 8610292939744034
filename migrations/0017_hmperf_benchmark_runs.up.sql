-- 0017_hmperf_benchmark_runs: hmperf's own record of benchmark runs (not in
-- the original project). One benchmark_runs row per run (with the server
-- version and settings it ran under), one benchmark_results row per
-- (table, variant, repetition) measurement.
BEGIN;

CREATE TABLE hmperf.benchmark_runs (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz,
    tables         text[]      NOT NULL,
    rows           integer     NOT NULL,
    reps           integer     NOT NULL,
    server_version text        NOT NULL,
    settings       jsonb       NOT NULL DEFAULT '{}',
    status         text        NOT NULL,
    error          text,
    CONSTRAINT benchmark_runs_status_check
        CHECK (status IN ('running', 'done', 'cancelled', 'failed')),
    CONSTRAINT benchmark_runs_rows_check CHECK (rows >= 0),
    CONSTRAINT benchmark_runs_reps_check CHECK (reps >= 0)
);

CREATE INDEX idx_benchmark_runs_started_at ON hmperf.benchmark_runs (started_at);

CREATE TABLE hmperf.benchmark_results (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id          bigint           NOT NULL REFERENCES hmperf.benchmark_runs (id) ON DELETE CASCADE,
    table_name      text             NOT NULL,
    variant         text             NOT NULL,
    rep             integer          NOT NULL,
    rows            integer          NOT NULL,
    seconds         double precision NOT NULL,
    rows_per_second double precision NOT NULL,
    measured_at     timestamptz      NOT NULL DEFAULT now(),
    CONSTRAINT benchmark_results_variant_check
        CHECK (variant IN ('original', 'optimized', 'unconstrained'))
);

CREATE INDEX idx_benchmark_results_measured_at ON hmperf.benchmark_results (measured_at);
CREATE INDEX idx_benchmark_results_run_id ON hmperf.benchmark_results (run_id);

COMMENT ON COLUMN hmperf.benchmark_results.table_name IS
    'The original table of the family (e.g. nutrition_metrics); variant says which twin was measured (<table>, <table>_optimized or <table>_unconstrained).';

COMMIT;
