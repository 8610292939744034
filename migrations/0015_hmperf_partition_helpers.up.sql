-- 0015_hmperf_partition_helpers: generic monthly range partitioning for the
-- metric tables (0012, 0013, 0014 and the 0020-0023 twins), in hmperf's own
-- schema so that no name can collide with a function of the service's (its
-- own create_monthly_partitions(text, text, ...) and maintain_partitions()
-- would otherwise be overloaded or replaced).
--
-- On a database hmperf created, this migration registers the base
-- partitioned tables of 0012-0014 and creates their months. On an adopted
-- database (hmperf.adoption exists: `hmperf migrate adopt` wrote it) the
-- service maintains its own tables' partitions, so none of them is registered
-- and no partition is added to a table of the service's.
--
--
-- Deviations from the original project (seed-facts §2, §10.10, §10.14):
--   * create_monthly_partitions takes the parent as regclass and reads the
--     partition key from the catalog, instead of (table_name text, date_column
--     text); it returns the number of partitions created (the original
--     returned void) and its default horizon is 1 back / 3 ahead (was 12 ahead).
--   * Existing partitions are found by exact name in the parent's schema,
--     never with LIKE '<table>_%' (where "_" is a wildcard: §10.14).
--   * It creates NO per-partition indexes: indexes declared on a partitioned
--     parent already propagate to every partition; the original's extra
--     per-partition BRIN/B-tree copies were duplicates (§10.10).
--   * Every partitioned table also gets a DEFAULT partition (created by its own
--     migration), so backfills and far-future rows never fail with "no
--     partition of relation found for row". When a month is created while the
--     DEFAULT partition already holds rows of that month (PostgreSQL would
--     refuse to create it), the rows are moved: deleted from the DEFAULT
--     partition, the month is created, and they are re-inserted through the
--     parent -- all inside the caller's transaction, so a failure leaves
--     nothing half-done. Re-inserted rows pass the parent's triggers and
--     CHECKs again.
--   * Partition boundaries are UTC month starts.
--   * maintain_partitions() reads its table list and horizons from the
--     partition_maintenance table (one row per partitioned table, inserted by
--     this migration for the base tables, by 0020-0023 for their twins) instead of being redefined by every
--     migration; it returns the number of partitions created.
--   * Once 0022 is applied, every partition created here is handed to
--     enqueue_partition_indexes(regclass) (looked up at run time, so this file
--     does not depend on 0022).
BEGIN;

CREATE TABLE hmperf.partition_maintenance (
    parent_table text    PRIMARY KEY,
    months_back  integer NOT NULL DEFAULT 1,
    months_ahead integer NOT NULL DEFAULT 3,
    enabled      boolean NOT NULL DEFAULT true,
    CONSTRAINT partition_maintenance_months_back_check CHECK (months_back BETWEEN 0 AND 1200),
    CONSTRAINT partition_maintenance_months_ahead_check CHECK (months_ahead BETWEEN 0 AND 1200)
);

COMMENT ON TABLE hmperf.partition_maintenance IS
    'Partitioned tables that maintain_partitions() keeps supplied with monthly partitions, and their horizon in months.';

CREATE FUNCTION hmperf.create_monthly_partitions(
    parent regclass,
    start_months_back integer DEFAULT 1,
    end_months_ahead integer DEFAULT 3
) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_nsp_oid  oid;
    v_nsp      name;
    v_rel      name;
    v_key      name;
    v_key_type text;
    v_default  oid;
    v_cols     text;
    v_month    timestamp;
    v_lo       timestamptz;
    v_hi       timestamptz;
    v_name     text;
    v_has_rows boolean;
    v_moved    bigint;
    v_created  integer := 0;
BEGIN
    IF start_months_back IS NULL OR end_months_ahead IS NULL
       OR start_months_back < 0 OR end_months_ahead < 0 THEN
        RAISE EXCEPTION 'create_monthly_partitions: month offsets must be >= 0 (got % back, % ahead)',
            start_months_back, end_months_ahead
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    SELECT c.relnamespace, n.nspname, c.relname
      INTO v_nsp_oid, v_nsp, v_rel
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.oid = parent;

    SELECT pt.partdefid, a.attname, format_type(a.atttypid, a.atttypmod)
      INTO v_default, v_key, v_key_type
      FROM pg_partitioned_table pt
      JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0]
     WHERE pt.partrelid = parent
       AND pt.partstrat = 'r'
       AND pt.partnatts = 1;
    IF NOT FOUND OR v_key_type <> 'timestamp with time zone' THEN
        RAISE EXCEPTION 'create_monthly_partitions: % is not range-partitioned on one timestamptz column', parent
            USING ERRCODE = 'wrong_object_type';
    END IF;

    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum)
      INTO v_cols
      FROM pg_attribute
     WHERE attrelid = parent AND attnum > 0 AND NOT attisdropped;

    FOR i IN -start_months_back .. end_months_ahead LOOP
        v_month := date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => i);
        v_lo    := v_month AT TIME ZONE 'UTC';
        v_hi    := (v_month + interval '1 month') AT TIME ZONE 'UTC';
        v_name  := v_rel || '_' || to_char(v_month, 'YYYY_MM');

        -- Exact name lookup in the parent's schema (no LIKE pattern).
        CONTINUE WHEN EXISTS (
            SELECT 1 FROM pg_class WHERE relname = v_name AND relnamespace = v_nsp_oid);

        v_moved := 0;
        IF v_default <> 0 THEN
            -- Keep inserts out while rows move from DEFAULT into the new month.
            EXECUTE format('LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE', parent);
            EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE %I >= $1 AND %I < $2)',
                           v_default::regclass, v_key, v_key)
               INTO v_has_rows USING v_lo, v_hi;
            IF v_has_rows THEN
                IF to_regclass('pg_temp.hmperf_partition_move') IS NOT NULL THEN
                    DROP TABLE pg_temp.hmperf_partition_move;
                END IF;
                EXECUTE format('CREATE TEMP TABLE hmperf_partition_move (LIKE %s)', parent);
                EXECUTE format(
                    'WITH moved AS (DELETE FROM %s WHERE %I >= $1 AND %I < $2 RETURNING %s) '
                    'INSERT INTO pg_temp.hmperf_partition_move (%s) SELECT %s FROM moved',
                    v_default::regclass, v_key, v_key, v_cols, v_cols, v_cols)
                    USING v_lo, v_hi;
                GET DIAGNOSTICS v_moved = ROW_COUNT;
            END IF;
        END IF;

        EXECUTE format('CREATE TABLE %I.%I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)',
                       v_nsp, v_name, parent, v_lo, v_hi);

        IF v_moved > 0 THEN
            EXECUTE format('INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM pg_temp.hmperf_partition_move',
                           parent, v_cols, v_cols);
            DROP TABLE pg_temp.hmperf_partition_move;
            RAISE NOTICE 'create_monthly_partitions: moved % row(s) from the DEFAULT partition into %.%',
                v_moved, v_nsp, v_name;
        END IF;

        v_created := v_created + 1;

        -- Index strategies of 0022, when installed.
        IF to_regprocedure('hmperf.enqueue_partition_indexes(regclass)') IS NOT NULL THEN
            EXECUTE 'SELECT hmperf.enqueue_partition_indexes($1)'
                USING format('%I.%I', v_nsp, v_name)::regclass;
        END IF;
    END LOOP;

    RETURN v_created;
END;
$$;

COMMENT ON FUNCTION hmperf.create_monthly_partitions(regclass, integer, integer) IS
    'Creates the missing <table>_YYYY_MM range partitions (UTC months) from start_months_back months ago to end_months_ahead months ahead; moves matching rows out of the DEFAULT partition first; returns the number created. Creates no per-partition indexes: the parent''s indexes propagate.';

CREATE FUNCTION hmperf.maintain_partitions() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    r       record;
    v_total integer := 0;
BEGIN
    FOR r IN SELECT parent_table, months_back, months_ahead
               FROM hmperf.partition_maintenance
              WHERE enabled
              ORDER BY parent_table
    LOOP
        IF to_regclass(r.parent_table) IS NULL THEN
            RAISE WARNING 'maintain_partitions: table % does not exist, skipped', r.parent_table;
            CONTINUE;
        END IF;
        v_total := v_total + hmperf.create_monthly_partitions(to_regclass(r.parent_table), r.months_back, r.months_ahead);
    END LOOP;
    RETURN v_total;
END;
$$;

COMMENT ON FUNCTION hmperf.maintain_partitions() IS
    'Runs create_monthly_partitions for every enabled row of partition_maintenance; returns the number of partitions created.';

-- Shared by the analyze_*_performance() functions. Partitions are found
-- through pg_inherits (exact), never by name pattern; the DEFAULT partition
-- counts as a partition.
CREATE FUNCTION hmperf.partition_summary(parent regclass)
RETURNS TABLE (
    table_name             text,
    partition_count        bigint,
    total_rows             bigint,
    avg_rows_per_partition bigint,
    oldest_data            timestamptz,
    newest_data            timestamptz
)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_key name;
BEGIN
    SELECT a.attname INTO v_key
      FROM pg_partitioned_table pt
      JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0]
     WHERE pt.partrelid = parent;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'partition_summary: % is not a partitioned table', parent
            USING ERRCODE = 'wrong_object_type';
    END IF;

    table_name := (SELECT c.relname::text FROM pg_class c WHERE c.oid = parent);
    partition_count := (SELECT count(*) FROM pg_inherits i WHERE i.inhparent = parent);
    EXECUTE format('SELECT count(*), min(%I), max(%I) FROM %s', v_key, v_key, parent)
       INTO total_rows, oldest_data, newest_data;
    avg_rows_per_partition := CASE WHEN partition_count > 0 THEN total_rows / partition_count ELSE 0 END;
    RETURN NEXT;
END;
$$;

-- The base tables' partitions, unless the service owns them (see above).
INSERT INTO hmperf.partition_maintenance (parent_table, months_back, months_ahead)
SELECT t.name, 1, 3
  FROM unnest(ARRAY['activity_metrics_v2', 'nutrition_metrics', 'symptoms']) AS t(name)
 WHERE to_regclass('hmperf.adoption') IS NULL
   AND to_regclass(t.name) IS NOT NULL;

SELECT hmperf.maintain_partitions();

COMMIT;
