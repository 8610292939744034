-- Test-only migration (never embedded: it lives in testdata/). It creates a
-- table, fills it, then fails halfway through, inside its transaction: after
-- it, the database must still be clean at the version before and hold
-- nothing of it.
BEGIN;

CREATE TABLE hmperf_failing_probe (id integer PRIMARY KEY);
INSERT INTO hmperf_failing_probe VALUES (1);

SELECT 1 / 0;

CREATE TABLE hmperf_failing_never (id integer);

COMMIT;
