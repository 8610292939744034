-- 0032_hmperf_own_writes (hmperf): the write sampler reports as the
-- service's only what others wrote.
--
-- Until now the sampler took out of the observed rows only the rows
-- hmperf's ingest committed (queued by a trigger on ingest_batch_stats, and
-- only while a sampler was active). What else hmperf wrote to the service's
-- tables showed as the service's traffic: rows its savepoints rolled back
-- (a COPY that met an existing key is retried through a staging table), the
-- sample users it registers in users, and whole batches that failed.
--
--   * hmperf.own_writes: what hmperf wrote to a table outside its own
--     schemas, per transaction and table (partitions summed into the top
--     parent): committed rows and rolled-back rows, when, and by which
--     command (application_name). The writing transaction records it from
--     its own counters (pg_stat_get_xact_tuples_inserted), so it is exact
--     and commits with the rows; a batch that fails records its rolled-back
--     rows after rolling back to a savepoint. Rows stay two hours, for
--     samplers that keep their state in memory (a role that may not write).
--   * The trigger on ingest_batch_stats goes, with its function and its
--     queue (hmperf.write_sample_own_rows): ingest records into
--     hmperf.own_writes itself, the trigger would count its rows twice.
--   * hmperf.sample_writes() takes hmperf.own_writes out: committed rows out
--     of the service's rows, rolled-back rows out of the rolled-back rows
--     (and, where VACUUM or ANALYZE made the split unknown, out of the rows
--     counted as committed). What the statistics do not show yet is carried,
--     as before, for at most five minutes; the carry keeps rolled-back rows
--     too. Each table's sample reports hmperf_rolled_back beside hmperf_rows.
--   * hmperf.write_sampling_skips() also skips hmperf's scratch copies
--     (tables named hmperf_scratch_*), wherever they live.
BEGIN;

CREATE TABLE hmperf.own_writes (
    id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    root_relid       oid         NOT NULL,
    table_name       text        NOT NULL,
    committed        bigint      NOT NULL CHECK (committed >= 0),
    rolled_back      bigint      NOT NULL CHECK (rolled_back >= 0),
    written_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    application_name text        NOT NULL DEFAULT current_setting('application_name'),
    -- sampled: hmperf.sample_writes() has taken the row out.
    sampled          boolean     NOT NULL DEFAULT false
);

CREATE INDEX idx_own_writes_written_at ON hmperf.own_writes (written_at);
CREATE INDEX idx_own_writes_unsampled ON hmperf.own_writes (root_relid) WHERE NOT sampled;

COMMENT ON TABLE hmperf.own_writes IS
    'What hmperf itself wrote to tables outside its schemas, per transaction and table: committed and rolled-back rows, time and command. The write sampler takes it out of the service''s writes.';

ALTER TABLE hmperf.write_sample_carry ADD COLUMN rolled_back bigint NOT NULL DEFAULT 0;

DROP TRIGGER write_sampling_own_rows ON hmperf.ingest_batch_stats;
DROP FUNCTION hmperf.write_sampling_own_rows();
DROP TABLE hmperf.write_sample_own_rows;

-- hmperf's scratch copies (hmperf_scratch_*) are its own wherever they
-- live, as everything in its schemas is.
CREATE OR REPLACE FUNCTION hmperf.write_sampling_skips(root oid) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT n.nspname = 'hmperf' OR n.nspname LIKE 'hmperf\_%'
        OR c.relpersistence = 't'
        OR c.relname LIKE 'hmperf\_scratch\_%'
        OR (c.relname IN ('constraint_performance_monitor', 'constraint_alert_thresholds',
                          'index_creation_strategy', 'deferred_index_creation')
            AND n.nspname = 'public')
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.oid = root
$$;

CREATE OR REPLACE FUNCTION hmperf.sample_writes(p_wait boolean DEFAULT true)
RETURNS TABLE (
    sampled_at       timestamptz,
    interval_seconds double precision,
    status           text,
    statements       text,
    stats_reset      boolean,
    tables           jsonb
)
LANGUAGE plpgsql
SET jit = off AS $$
#variable_conflict use_column
DECLARE
    st         hmperf.write_sampler%ROWTYPE;
    v_now      timestamptz;
    v_secs     double precision;
    v_baseline boolean;
    v_reset    timestamptz;
    v_start    timestamptz := pg_postmaster_start_time();
    v_cur      hmperf.write_sample_tables[];
    v_stmts    hmperf.write_sample_statements[];
    v_schema   text;
    v_stmt_ok  boolean := false;
    v_status   text;
    v_top      text;
    v_time     text;
    v_tables   jsonb;
    v_own      bigint[];
BEGIN
    IF p_wait THEN
        SELECT * INTO st FROM hmperf.write_sampler FOR UPDATE;
    ELSE
        SELECT * INTO st FROM hmperf.write_sampler FOR UPDATE SKIP LOCKED;
        IF NOT FOUND THEN
            RETURN QUERY SELECT now(), NULL::double precision, 'busy'::text, NULL::text, false, '[]'::jsonb;
            RETURN;
        END IF;
    END IF;
    -- The clock after the lock: a sampler that waited starts its interval
    -- where the other one ended it.
    v_now := clock_timestamp();
    -- hmperf's records of its own writes, before the counters: a writer
    -- flushes its counters before its COMMIT returns, so the counters read
    -- below hold the rows of every record read here.
    SELECT coalesce(array_agg(o.id), '{}') INTO v_own FROM hmperf.own_writes o WHERE NOT o.sampled;
    -- A sample lost in a crash costs nothing (the next one covers its
    -- interval): its commit need not wait for the WAL flush. Local to the
    -- caller's transaction.
    PERFORM set_config('synchronous_commit', 'off', true);
    v_baseline := st.sampled_at IS NULL OR v_now - st.sampled_at > interval '2 hours';
    v_secs := CASE WHEN NOT v_baseline THEN extract(epoch FROM v_now - st.sampled_at) END;
    v_reset := pg_stat_get_db_stat_reset_time((SELECT oid FROM pg_database WHERE datname = current_database()));

    -- The counters of pg_stat_user_tables, read from the functions behind
    -- it: the view also sums index scans per table, which costs more than
    -- the rest of the sample.
    SELECT array_agg(ROW(c.oid, coalesce(pg_partition_root(c.oid), c.oid),
                         pg_stat_get_tuples_inserted(c.oid), pg_stat_get_tuples_updated(c.oid),
                         pg_stat_get_tuples_deleted(c.oid), pg_stat_get_dead_tuples(c.oid),
                         pg_stat_get_vacuum_count(c.oid) + pg_stat_get_autovacuum_count(c.oid)
                         + pg_stat_get_analyze_count(c.oid) + pg_stat_get_autoanalyze_count(c.oid)
                     )::hmperf.write_sample_tables)
      INTO v_cur
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p')
       AND c.relpersistence = 'p'
       AND n.nspname NOT IN ('pg_catalog', 'information_schema')
       AND n.nspname !~ '^(pg_toast|hmperf$|hmperf_)';

    -- pg_stat_statements, where the extension is installed in this
    -- database (in whichever schema): the INSERT INTO and COPY ... FROM
    -- statements, by target table (resolved with this session's
    -- search_path; a statement starting with WITH is not attributed).
    SELECT n.nspname INTO v_schema
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'pg_stat_statements';
    IF v_schema IS NULL THEN
        v_status := 'not installed';
    ELSE
        BEGIN
            v_top := CASE WHEN EXISTS (SELECT 1 FROM pg_attribute
                                        WHERE attrelid = format('%I.pg_stat_statements', v_schema)::regclass
                                          AND attname = 'toplevel') THEN 's.toplevel' ELSE 'true' END;
            v_time := CASE WHEN EXISTS (SELECT 1 FROM pg_attribute
                                         WHERE attrelid = format('%I.pg_stat_statements', v_schema)::regclass
                                           AND attname = 'total_exec_time') THEN 's.total_exec_time' ELSE 's.total_time' END;
            EXECUTE format($q$
                SELECT array_agg(ROW(s.userid, s.queryid, %s, t.root, s.calls, s.rows, %s)::hmperf.write_sample_statements)
                  FROM %I.pg_stat_statements s
                  CROSS JOIN LATERAL (
                        SELECT coalesce(pg_partition_root(x.r), x.r) AS root
                          FROM (SELECT to_regclass(coalesce(m[1], m[2]))::oid AS r
                                  FROM regexp_match(s.query,
                                       '^\s*(?:(?:/\*[^*]*\*+(?:[^/*][^*]*\*+)*/|--[^\n]*\n)\s*)*'
                                       '(?:insert\s+into\s+((?:"(?:[^"]|"")+"|[^\s."(]+)(?:\s*\.\s*(?:"(?:[^"]|"")+"|[^\s."(]+))?)'
                                       '|copy\s+((?:"(?:[^"]|"")+"|[^\s."(]+)(?:\s*\.\s*(?:"(?:[^"]|"")+"|[^\s."(]+))?)\s*(?:\([^)]*\))?\s*from\s)',
                                       'i') m) x) t
                 WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                   AND s.queryid IS NOT NULL
                   AND t.root IS NOT NULL
                $q$, v_top, v_time, v_schema)
              INTO v_stmts;
            v_stmt_ok := true;
            v_status := CASE WHEN pg_has_role('pg_read_all_stats', 'USAGE') THEN 'installed'
                             ELSE 'installed (own statements only: grant pg_read_all_stats to see all)' END;
        EXCEPTION WHEN OTHERS THEN
            v_status := 'unavailable: ' || SQLERRM;
        END;
    END IF;

    IF v_baseline THEN
        DELETE FROM hmperf.write_sample_tables;
        INSERT INTO hmperf.write_sample_tables SELECT * FROM unnest(v_cur);
        DELETE FROM hmperf.write_sample_statements;
        INSERT INTO hmperf.write_sample_statements SELECT * FROM unnest(v_stmts);
        UPDATE hmperf.own_writes o SET sampled = true WHERE o.id = ANY (v_own);
        DELETE FROM hmperf.write_sample_carry;
        UPDATE hmperf.write_sampler w
           SET sampled_at = v_now, stats_reset = v_reset, postmaster_start = v_start, statements_sampled = v_stmt_ok;
        RETURN QUERY SELECT v_now, NULL::double precision, 'baseline'::text, v_status, false, '[]'::jsonb;
        RETURN;
    END IF;

    -- Deltas per partition, summed per table, the own-rows queue matched,
    -- and the new counters stored, in one statement: every part reads the
    -- previous state as it was.
    WITH cur AS (
        SELECT * FROM unnest(v_cur)
    ), leaf AS (
        SELECT -- A counter that went down restarted from zero.
               (p.relid IS NULL OR c.n_tup_ins < p.n_tup_ins OR c.n_tup_upd < p.n_tup_upd
                OR c.n_tup_del < p.n_tup_del OR c.maintenance < p.maintenance) AS restarted,
               c.*, p.n_tup_ins AS p_ins, p.n_tup_upd AS p_upd, p.n_tup_del AS p_del,
               p.n_dead_tup AS p_dead, p.maintenance AS p_maint
          FROM cur c LEFT JOIN hmperf.write_sample_tables p ON p.relid = c.relid
    ), d AS (
        SELECT l.root_relid,
               l.n_tup_ins - CASE WHEN l.restarted THEN 0 ELSE l.p_ins END AS d_ins,
               l.n_tup_upd - CASE WHEN l.restarted THEN 0 ELSE l.p_upd END AS d_upd,
               l.n_tup_del - CASE WHEN l.restarted THEN 0 ELSE l.p_del END AS d_del,
               l.n_dead_tup - CASE WHEN l.restarted THEN 0 ELSE l.p_dead END AS d_dead,
               l.maintenance - CASE WHEN l.restarted THEN 0 ELSE l.p_maint END AS d_maint
          FROM leaf l
    ), split AS (
        SELECT d.root_relid, d.d_ins,
               CASE WHEN d.d_maint = 0 AND d.d_dead >= 0
                    THEN least(greatest(d.d_dead - d.d_upd - d.d_del, 0), d.d_ins) END AS rolled_back
          FROM d WHERE d.d_ins > 0
    ), per_table AS (
        SELECT s.root_relid,
               sum(s.d_ins)::bigint AS inserted,
               coalesce(sum(s.rolled_back), 0)::bigint AS rolled_back,
               coalesce(sum(s.d_ins) FILTER (WHERE s.rolled_back IS NULL), 0)::bigint AS unknown
          FROM split s GROUP BY 1
    ), own AS (
        -- What hmperf itself wrote since the previous sample, committed
        -- and rolled back (recorded by the writing transaction).
        SELECT o.root_relid, sum(o.committed)::bigint AS committed, sum(o.rolled_back)::bigint AS rolled_back
          FROM hmperf.own_writes o WHERE o.id = ANY (v_own) GROUP BY 1
    ), stmt AS (
        SELECT c.root_relid,
               sum(c.calls - CASE WHEN r THEN 0 ELSE p.calls END)::bigint AS calls,
               sum(c.rows - CASE WHEN r THEN 0 ELSE p.rows END)::bigint AS rows,
               sum(c.exec_ms - CASE WHEN r THEN 0 ELSE p.exec_ms END) / 1000.0 AS seconds
          FROM unnest(v_stmts) c
          LEFT JOIN hmperf.write_sample_statements p USING (userid, queryid, toplevel)
          CROSS JOIN LATERAL (SELECT p.userid IS NULL OR c.calls < p.calls OR c.rows < p.rows OR c.exec_ms < p.exec_ms AS r) x
         WHERE st.statements_sampled
         GROUP BY 1
    ), tbl AS (
        SELECT k.root_relid,
               k.root_relid::regclass::text AS table_name,
               coalesce(pt.inserted, 0) AS inserted,
               coalesce(pt.rolled_back, 0) AS rolled_back,
               coalesce(pt.unknown, 0) AS unknown,
               coalesce(pt.inserted - pt.rolled_back, 0) AS committed,
               coalesce(own.committed, 0) + coalesce(cy.rows, 0) AS pending,
               coalesce(own.rolled_back, 0) + coalesce(cy.rolled_back, 0) AS pending_rb,
               cy.since AS pending_since,
               sm.calls, sm.rows AS stmt_rows, sm.seconds AS stmt_seconds
          FROM (SELECT root_relid FROM per_table UNION SELECT root_relid FROM own
                UNION SELECT root_relid FROM hmperf.write_sample_carry UNION SELECT root_relid FROM stmt) k
          LEFT JOIN per_table pt USING (root_relid)
          LEFT JOIN own USING (root_relid)
          LEFT JOIN hmperf.write_sample_carry cy USING (root_relid)
          LEFT JOIN stmt sm USING (root_relid)
         WHERE NOT coalesce(hmperf.write_sampling_skips(k.root_relid), true)
    ), rb AS (
        -- hmperf's rolled-back rows are matched against the rolled-back
        -- rows seen, then against rows whose split is unknown (VACUUM or
        -- ANALYZE ran), which count as committed.
        SELECT t.*, least(t.pending_rb, t.rolled_back) AS own_rb,
               least(t.pending_rb - least(t.pending_rb, t.rolled_back), t.unknown) AS own_rbu
          FROM tbl t
    ), own_c AS (
        SELECT r.*, least(r.pending, r.committed - r.own_rbu) AS own_c FROM rb r
    ), matched AS (
        SELECT o.root_relid, o.table_name, o.inserted, o.calls, o.stmt_rows, o.stmt_seconds, o.pending_since,
               o.rolled_back - o.own_rb AS rolled_back,
               o.unknown - o.own_rbu AS unknown,
               o.own_c AS hmperf_rows,
               o.own_rb + o.own_rbu AS hmperf_rolled_back,
               o.committed - o.own_rbu - o.own_c AS rows,
               o.pending - o.own_c AS left_over,
               o.pending_rb - o.own_rb - o.own_rbu AS left_over_rb
          FROM own_c o
    ), upd_tables AS (
        UPDATE hmperf.write_sample_tables p
           SET root_relid = c.root_relid, n_tup_ins = c.n_tup_ins, n_tup_upd = c.n_tup_upd,
               n_tup_del = c.n_tup_del, n_dead_tup = c.n_dead_tup, maintenance = c.maintenance
          FROM cur c
         WHERE p.relid = c.relid
           AND (p.n_tup_ins, p.n_tup_upd, p.n_tup_del, p.n_dead_tup, p.maintenance, p.root_relid)
               IS DISTINCT FROM (c.n_tup_ins, c.n_tup_upd, c.n_tup_del, c.n_dead_tup, c.maintenance, c.root_relid)
    ), ins_tables AS (
        INSERT INTO hmperf.write_sample_tables
        SELECT c.* FROM cur c WHERE NOT EXISTS (SELECT 1 FROM hmperf.write_sample_tables p WHERE p.relid = c.relid)
    ), del_tables AS (
        DELETE FROM hmperf.write_sample_tables p WHERE NOT EXISTS (SELECT 1 FROM cur c WHERE c.relid = p.relid)
    ), del_stmts AS (
        DELETE FROM hmperf.write_sample_statements p
         WHERE v_stmt_ok
           AND NOT EXISTS (SELECT 1 FROM unnest(v_stmts) c
                            WHERE (c.userid, c.queryid, c.toplevel) = (p.userid, p.queryid, p.toplevel))
    ), upd_stmts AS (
        UPDATE hmperf.write_sample_statements p
           SET root_relid = c.root_relid, calls = c.calls, rows = c.rows, exec_ms = c.exec_ms
          FROM unnest(v_stmts) c
         WHERE (c.userid, c.queryid, c.toplevel) = (p.userid, p.queryid, p.toplevel)
           AND (p.calls, p.rows, p.exec_ms, p.root_relid) IS DISTINCT FROM (c.calls, c.rows, c.exec_ms, c.root_relid)
    ), ins_stmts AS (
        INSERT INTO hmperf.write_sample_statements
        SELECT c.* FROM unnest(v_stmts) c
         WHERE NOT EXISTS (SELECT 1 FROM hmperf.write_sample_statements p
                            WHERE (c.userid, c.queryid, c.toplevel) = (p.userid, p.queryid, p.toplevel))
    ), mark_own AS (
        UPDATE hmperf.own_writes o SET sampled = true WHERE o.id = ANY (v_own)
    ), prune_own AS (
        -- Kept two hours, for samplers that keep their state in memory;
        -- never the rows mark_own updates.
        DELETE FROM hmperf.own_writes o WHERE o.sampled AND o.written_at < v_now - interval '2 hours'
    ), del_carry AS (
        DELETE FROM hmperf.write_sample_carry
    ), ins_carry AS (
        -- What could not be matched waits for the statistics to arrive,
        -- for at most five minutes.
        INSERT INTO hmperf.write_sample_carry (root_relid, rows, since, rolled_back)
        SELECT m.root_relid, m.left_over, coalesce(m.pending_since, v_now), m.left_over_rb
          FROM matched m
         WHERE (m.left_over > 0 OR m.left_over_rb > 0) AND coalesce(m.pending_since, v_now) > v_now - interval '5 minutes'
    ), hourly AS (
        INSERT INTO hmperf.observed_writes_hourly AS h
               (table_name, hour_bucket, samples, rows, rolled_back, rollback_unknown, hmperf_rows,
                stmt_calls, stmt_rows, stmt_seconds)
        SELECT m.table_name, date_trunc('hour', v_now), 1, m.rows, m.rolled_back, m.unknown, m.hmperf_rows,
               m.calls, m.stmt_rows, m.stmt_seconds
          FROM matched m
         WHERE m.inserted > 0 OR coalesce(m.calls, 0) > 0
        ON CONFLICT (hour_bucket, table_name) DO UPDATE
           SET samples          = h.samples + 1,
               rows             = h.rows + EXCLUDED.rows,
               rolled_back      = h.rolled_back + EXCLUDED.rolled_back,
               rollback_unknown = h.rollback_unknown + EXCLUDED.rollback_unknown,
               hmperf_rows      = h.hmperf_rows + EXCLUDED.hmperf_rows,
               stmt_calls       = CASE WHEN EXCLUDED.stmt_calls IS NULL THEN h.stmt_calls
                                       ELSE coalesce(h.stmt_calls, 0) + EXCLUDED.stmt_calls END,
               stmt_rows        = CASE WHEN EXCLUDED.stmt_rows IS NULL THEN h.stmt_rows
                                       ELSE coalesce(h.stmt_rows, 0) + EXCLUDED.stmt_rows END,
               stmt_seconds     = CASE WHEN EXCLUDED.stmt_seconds IS NULL THEN h.stmt_seconds
                                       ELSE coalesce(h.stmt_seconds, 0) + EXCLUDED.stmt_seconds END
    )
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'table_name', m.table_name,
               'inserted', m.inserted,
               'rows', m.rows,
               'rolled_back', m.rolled_back,
               'rollback_unknown', m.unknown,
               'hmperf_rows', m.hmperf_rows,
               'hmperf_rolled_back', m.hmperf_rolled_back,
               'statement_calls', m.calls,
               'statement_rows', m.stmt_rows,
               'statement_seconds', m.stmt_seconds) ORDER BY m.table_name), '[]'::jsonb)
      INTO v_tables
      FROM matched m
     WHERE m.inserted > 0 OR coalesce(m.calls, 0) > 0;

    INSERT INTO hmperf.observed_sample_hours AS h (hour_bucket, samples, wall_seconds)
    VALUES (date_trunc('hour', v_now), 1, v_secs)
    ON CONFLICT (hour_bucket) DO UPDATE SET samples = h.samples + 1, wall_seconds = h.wall_seconds + EXCLUDED.wall_seconds;

    UPDATE hmperf.write_sampler w
       SET sampled_at = v_now, stats_reset = v_reset, postmaster_start = v_start, statements_sampled = v_stmt_ok;

    RETURN QUERY SELECT v_now, v_secs, 'sampled'::text, v_status,
                        (v_reset IS DISTINCT FROM st.stats_reset OR v_start IS DISTINCT FROM st.postmaster_start),
                        v_tables;
END;
$$;

COMMENT ON FUNCTION hmperf.sample_writes(boolean) IS
    'Takes one sample of the service''s writes from the statistics views (no trigger on any metric table) and adds the deltas since the previous sample to hmperf.observed_writes_hourly, less what hmperf itself wrote (hmperf.own_writes). p_wait = false returns status busy when another sampler holds the lock.';

COMMIT;
