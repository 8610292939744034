package ingest_test

import (
	"context"
	"testing"

	"hmperf/engine"
	"hmperf/queries/ingest"
)

// TestBatchesRecordTheirOwnWrites: every batch records in hmperf.own_writes
// what it wrote to the live tables, and the record agrees with the
// statistics: a clean run commits every row it counts as inserted; a batch
// a trigger refuses halfway (an error that is not a data refusal, so the
// batch fails) stores nothing and records every row it had inserted,
// users included, as rolled back.
func TestBatchesRecordTheirOwnWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		fail bool
	}{
		{name: "clean run"},
		{name: "failed batch", fail: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pool := newPool(t)
			if tc.fail {
				if _, err := pool.Exec(ctx, `CREATE FUNCTION refuse_batch() RETURNS trigger LANGUAGE plpgsql AS
					$$ BEGIN RAISE EXCEPTION 'batch refused by the test'; END $$;
					CREATE TRIGGER refuse_batch AFTER INSERT ON workouts FOR EACH STATEMENT EXECUTE FUNCTION refuse_batch()`); err != nil {
					t.Fatal(err)
				}
			}
			in := newIngester(t, pool, engine.DefaultPolicy(), engine.ContextAPI)
			err := ingest.RunSample(ctx, in, generator(t, 3, 0, 0), 2000, 2000, nil)
			if tc.fail != (err != nil) {
				t.Fatalf("ingest: %v; want it to fail: %v", err, tc.fail)
			}
			rows, err := pool.Query(ctx, `
				SELECT o.table_name, sum(o.committed)::bigint, sum(o.rolled_back)::bigint,
				       (SELECT sum(pg_stat_get_tuples_inserted(l.relid))::bigint
				          FROM unnest(coalesce((SELECT array_agg(p.relid) FROM pg_partition_tree(o.root_relid) p WHERE p.isleaf),
				                               ARRAY[o.root_relid::regclass])) l(relid))
				  FROM hmperf.own_writes o GROUP BY o.table_name, o.root_relid ORDER BY 1`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			tables := 0
			for rows.Next() {
				var name string
				var committed, rolledBack, inserted int64
				if err := rows.Scan(&name, &committed, &rolledBack, &inserted); err != nil {
					t.Fatal(err)
				}
				tables++
				if committed+rolledBack != inserted || tc.fail && committed != 0 || !tc.fail && rolledBack != 0 {
					t.Errorf("%s: recorded %d committed and %d rolled back, the statistics count %d inserted", name, committed, rolledBack, inserted)
				}
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if tables < 2 {
				t.Errorf("%d tables recorded; want users and the kinds' tables", tables)
			}
			if tot := in.Totals(); !tc.fail && tot.Inserted == 0 {
				t.Errorf("clean run inserted nothing: %+v", tot)
			}
		})
	}
}
