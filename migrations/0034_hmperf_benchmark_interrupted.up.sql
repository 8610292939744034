-- 0034_hmperf_benchmark_interrupted: a benchmark run whose owner is gone is
-- stored as "interrupted", not left reading "running".
--
-- A run's owner holds the advisory lock (1752002658, run id) for as long as
-- the run lives (queries/bench/owner.go). A killed hmperf cannot record its
-- end, so its row stayed "running" and readers had to derive the truth from
-- pg_locks each time. The next benchmark, and `migrate down --all`, now store
-- it: the status CHECK accepts 'interrupted', and the runs already orphaned
-- are marked here (one statement; a run still owned is left alone).
--
-- It creates nothing, so it names what tells it is in place:
-- probe: SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass('hmperf.benchmark_runs') AND conname = 'benchmark_runs_status_check' AND pg_get_constraintdef(oid) LIKE '%''interrupted''%')
BEGIN;

ALTER TABLE hmperf.benchmark_runs DROP CONSTRAINT benchmark_runs_status_check;
ALTER TABLE hmperf.benchmark_runs ADD CONSTRAINT benchmark_runs_status_check
    CHECK (status IN ('running', 'done', 'cancelled', 'failed', 'interrupted'));

UPDATE hmperf.benchmark_runs r
   SET status = 'interrupted',
       error = coalesce(r.error, 'interrupted: the hmperf that ran it ended before recording its end')
 WHERE r.status = 'running'
   AND NOT EXISTS (SELECT 1 FROM pg_locks l
                    WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
                      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                      AND l.classid = 1752002658 AND l.objid::bigint = r.id);

COMMIT;
