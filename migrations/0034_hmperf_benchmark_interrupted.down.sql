-- 0034 down: the status CHECK is 0017's again. An interrupted run goes back
-- to 'running', what hmperf stored for it before 0034: nobody holds its
-- ownership lock (run ids are never reused), so every reader since 0017
-- still reads it as interrupted (queries/bench statusColumn), and 0034 up
-- marks it interrupted again. Its error text is kept.
BEGIN;

UPDATE hmperf.benchmark_runs SET status = 'running' WHERE status = 'interrupted';

ALTER TABLE hmperf.benchmark_runs DROP CONSTRAINT benchmark_runs_status_check;
ALTER TABLE hmperf.benchmark_runs ADD CONSTRAINT benchmark_runs_status_check
    CHECK (status IN ('running', 'done', 'cancelled', 'failed'));

COMMIT;
