-- 0026_hmperf_sandbox down: the twins hold generated rows only.
DROP SCHEMA IF EXISTS hmperf_sandbox CASCADE;
