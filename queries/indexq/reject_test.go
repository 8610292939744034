package indexq_test

import (
	"context"
	"strings"
	"testing"

	"hmperf/queries/indexq"
)

// TestRejectsBadJobs queues jobs whose names would inject SQL, or that name
// things that do not exist, and checks each is failed at once with the
// reason, and never executed: no object of that name appears and the canary
// table the injected SQL would drop is still there.
func TestRejectsBadJobs(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.items(t, 10)
	b.exec(t, "CREATE TABLE idxq_canary (x int)")
	cases := []struct {
		name string
		spec indexq.Spec
		want string
	}{
		{"semicolon in table", indexq.Spec{Table: "idxq_items; DROP TABLE idxq_canary; --", Index: "idxq_ok1", Method: "btree", Columns: []string{"a"}}, "contains a semicolon"},
		{"quote in index", indexq.Spec{Table: "idxq_items", Index: `x" ON idxq_items (a); DROP TABLE idxq_canary; --`, Method: "btree", Columns: []string{"a"}}, "contains a quote"},
		{"single quote in table", indexq.Spec{Table: "idxq_items'", Index: "idxq_ok2", Method: "btree", Columns: []string{"a"}}, "contains a quote"},
		{"space in index", indexq.Spec{Table: "idxq_items", Index: "idxq bad", Method: "btree", Columns: []string{"a"}}, "contains white space"},
		{"upper case", indexq.Spec{Table: "idxq_items", Index: "Idxq_Upper", Method: "btree", Columns: []string{"a"}}, "outside [a-z0-9_]"},
		{"injection in column", indexq.Spec{Table: "idxq_items", Index: "idxq_ok3", Method: "btree", Columns: []string{"a); DROP TABLE idxq_canary; --"}}, "contains a semicolon"},
		{"missing table", indexq.Spec{Table: "idxq_nope", Index: "idxq_ok4", Method: "btree", Columns: []string{"a"}}, "does not exist"},
		{"missing column", indexq.Spec{Table: "idxq_items", Index: "idxq_ok5", Method: "btree", Columns: []string{"nope"}}, "has no column nope"},
		{"partitioned parent", indexq.Spec{Table: "activity_metrics_v2", Index: "idxq_ok6", Method: "brin", Columns: []string{"recorded_at"}}, "partitioned table"},
		{"unique brin", indexq.Spec{Table: "idxq_items", Index: "idxq_ok7", Method: "brin", Columns: []string{"id"}, Unique: true}, "cannot be unique"},
		{"name taken", indexq.Spec{Table: "idxq_items", Index: "idxq_canary", Method: "btree", Columns: []string{"a"}}, "already taken"},
	}
	ids := make([]int64, len(cases))
	for i, c := range cases {
		ids[i] = b.enqueue(t, c.spec)
	}
	sum, err := indexq.Process(context.Background(), b.pool, "test", 0)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Failed != len(cases) || sum.Built != 0 {
		t.Errorf("summary %+v: want every job failed", sum)
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			j := b.job(t, ids[i])
			if j.Status != indexq.Failed || j.Attempts != 1 || !strings.Contains(j.Error, c.want) {
				t.Errorf("job %+v: want failed at once, error containing %q", j, c.want)
			}
			if c.spec.Index != "idxq_canary" {
				if n, _ := b.relations(t, c.spec.Index); n != 0 {
					t.Errorf("a relation named %q exists", c.spec.Index)
				}
			}
		})
	}
	if n, _ := b.relations(t, "idxq_canary"); n != 1 {
		t.Error("the canary table is gone")
	}
	var idx int
	if err := b.pool.QueryRow(context.Background(), "SELECT count(*) FROM pg_indexes WHERE tablename = 'idxq_items'").Scan(&idx); err != nil || idx != 0 {
		t.Errorf("idxq_items has %d indexes (%v), want none", idx, err)
	}
	// The status read must survive the malformed names (the view resolves
	// them with safe_regclass; plain to_regclass raises on them).
	if perf, err := indexq.Performance(context.Background(), b.pool); err != nil || len(perf) != len(cases) {
		t.Errorf("Performance: %d rows, %v", len(perf), err)
	}
}

// TestSQLWorkerRejectsBadJobs: the report's blocking SQL worker also fails
// a malformed job alone, without raising and without executing anything.
func TestSQLWorkerRejectsBadJobs(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.items(t, 10)
	b.exec(t, "CREATE TABLE idxq_canary (x int)")
	bad := []indexq.Spec{
		{Table: "idxq_items; DROP TABLE idxq_canary; --", Index: "idxq_sql1", Method: "btree", Columns: []string{"a"}},
		{Table: `idxq_items"`, Index: "idxq_sql2", Method: "btree", Columns: []string{"a"}},
		{Table: "idxq items", Index: "idxq_sql3", Method: "btree", Columns: []string{"a"}},
	}
	ids := make([]int64, len(bad))
	for i, spec := range bad {
		ids[i] = b.enqueue(t, spec)
	}
	good := b.enqueue(t, indexq.Spec{Table: "idxq_items", Index: "idxq_sql_ok", Method: "btree", Columns: []string{"a"}})
	var built int
	if err := b.pool.QueryRow(context.Background(), "SELECT auto_process_deferred_indexes()").Scan(&built); err != nil {
		t.Fatalf("auto_process_deferred_indexes raised: %v", err)
	}
	if built != 1 || b.job(t, good).Status != indexq.Done {
		t.Errorf("built %d, good job %+v: want the valid job built", built, b.job(t, good))
	}
	for i, id := range ids {
		if j := b.job(t, id); j.Status != indexq.Failed || j.Error == "" {
			t.Errorf("job %q: %+v, want failed with an error", bad[i].Table, j)
		}
	}
	if n, _ := b.relations(t, "idxq_canary"); n != 1 {
		t.Error("the canary table is gone")
	}
}

// TestMaintainPartitionsAppliesStrategies creates months ahead and checks
// the new partitions get their indexes the strategies say: a lazy GIN is
// queued and built by the worker, a deferred B-tree below its size
// threshold is queued and postponed.
func TestMaintainPartitionsAppliesStrategies(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.exec(t, `INSERT INTO index_creation_strategy (table_name, index_kind, strategy, size_threshold_bytes, index_columns)
		VALUES ('activity_metrics_v2', 'gin', 'lazy', 0, ARRAY['raw_data'])`)
	b.exec(t, `UPDATE index_creation_strategy SET strategy = 'deferred', size_threshold_bytes = 1e9, index_columns = ARRAY['source']
		WHERE table_name = 'activity_metrics_v2' AND index_kind = 'btree'`)
	b.exec(t, "UPDATE hmperf.partition_maintenance SET months_ahead = months_ahead + 2 WHERE parent_table = 'activity_metrics_v2'")
	n, err := indexq.MaintainPartitions(ctx, b.pool)
	if err != nil || n != 2 {
		t.Fatalf("MaintainPartitions = %d, %v; want 2 new partitions", n, err)
	}
	queue, err := indexq.Queue(ctx, b.pool)
	if err != nil || len(queue) != 4 {
		t.Fatalf("queue %+v (%v): want a lazy gin and a deferred btree per new partition", queue, err)
	}
	sum, err := indexq.Process(ctx, b.pool, "test", 0)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Built != 2 || sum.Postponed != 2 {
		t.Errorf("summary %+v: want 2 built (lazy gin), 2 postponed (deferred btree below threshold)", sum)
	}
	queue, _ = indexq.Queue(ctx, b.pool)
	for _, j := range queue {
		want := map[string]string{"gin": indexq.Done, "btree": indexq.Pending}[j.Method]
		if j.Status != want || !strings.HasPrefix(j.Table, "activity_metrics_v2_") || j.Attempts != map[string]int{"gin": 1, "btree": 0}[j.Method] {
			t.Errorf("job %+v: want %s", j, want)
		}
	}
}
