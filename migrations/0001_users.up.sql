-- 0001_users: the owner of every metric row.
--
-- Deviation from the original project: the original users table also carried
-- API-key and profile columns that hmperf never reads; only the columns the
-- metric tables and the ingest engine need are kept. gen_random_uuid() is core
-- in PostgreSQL 13+, so no extension is required.
BEGIN;

CREATE TABLE users (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    email      text        UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE users IS 'Owners of the health-metric rows (hmperf 0001).';

COMMIT;
