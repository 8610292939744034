-- 0035_hmperf_rollouts down. The schemas are dropped without CASCADE: while
-- a rollout holds a twin or an original table there, the down refuses
-- rather than drop the service's data; revert or finish it first.
BEGIN;

DROP SCHEMA hmperf_rollout_old;
DROP SCHEMA hmperf_rollout_new;
DROP TABLE hmperf.rollouts;

COMMIT;
