package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/queries/indexq"
	"hmperf/queries/pgtest"
	"hmperf/queries/scale"
)

// catalogConn connects to a fresh migrated database and returns the oids of
// activity_metrics_v2 and users.
func catalogConn(tb testing.TB) (context.Context, *pgx.Conn, uint32, uint32) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	tb.Cleanup(cancel)
	conn, err := pgx.Connect(ctx, pgtest.NewMigratedDB(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close(context.Background()) })
	var table, users uint32
	if err := conn.QueryRow(ctx, `SELECT 'activity_metrics_v2'::regclass::oid, 'users'::regclass::oid`).Scan(&table, &users); err != nil {
		tb.Fatal(err)
	}
	return ctx, conn, table, users
}

// rowsExamined runs EXPLAIN ANALYZE of sql and adds up, over every scan of
// the plan and every loop, the rows it returned and the rows its filters
// removed, and the rows join filters removed: the work the query did, as
// a count rather than a time.
func rowsExamined(tb testing.TB, ctx context.Context, conn *pgx.Conn, sql string, args ...any) float64 {
	tb.Helper()
	var doc []byte
	if err := conn.QueryRow(ctx, "EXPLAIN (ANALYZE, FORMAT JSON) "+sql, args...).Scan(&doc); err != nil {
		tb.Fatal(err)
	}
	var plans []struct{ Plan planNode }
	if err := json.Unmarshal(doc, &plans); err != nil || len(plans) != 1 {
		tb.Fatalf("EXPLAIN output %s: %v", doc, err)
	}
	return plans[0].Plan.examined()
}

type planNode struct {
	NodeType      string     `json:"Node Type"`
	RelationName  string     `json:"Relation Name"`
	ActualRows    float64    `json:"Actual Rows"`
	ActualLoops   float64    `json:"Actual Loops"`
	RemovedFilter float64    `json:"Rows Removed by Filter"`
	RemovedJoin   float64    `json:"Rows Removed by Join Filter"`
	Plans         []planNode `json:"Plans"`
}

func (n planNode) examined() float64 {
	sum := n.RemovedJoin * n.ActualLoops
	if len(n.NodeType) > 4 && n.NodeType[len(n.NodeType)-4:] == "Scan" {
		sum += (n.ActualRows + n.RemovedFilter) * n.ActualLoops
	}
	for _, c := range n.Plans {
		sum += c.examined()
	}
	return sum
}

// TestBatchCheckableReadsOwnPartitionsOnly: the per-batch check of a
// partitioned table reads the catalogue rows of that table's partitions,
// not every trigger of the database. Here another partitioned table has a
// row trigger cloned to its 300 partitions; the check of activity_metrics_v2
// (some 50 partitions, each with about twenty constraints and a few internal
// triggers) must examine fewer than 40 catalogue rows per partition. The
// former join compared every partition with every one of those triggers
// (about 15,000 rows). It also still sees a trigger on a single partition.
func TestBatchCheckableReadsOwnPartitionsOnly(t *testing.T) {
	ctx, conn, table, users := catalogConn(t)
	for _, sql := range []string{
		`SELECT hmperf.create_monthly_partitions('activity_metrics_v2', 45, 3)`,
		`CREATE TABLE trig_tree (k int) PARTITION BY RANGE (k)`,
		`CREATE FUNCTION trig_tree_seen() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$`,
		`CREATE TRIGGER trig_tree_seen BEFORE INSERT ON trig_tree FOR EACH ROW EXECUTE FUNCTION trig_tree_seen()`,
		`DO $$ BEGIN FOR i IN 0..299 LOOP
		     EXECUTE format('CREATE TABLE %I PARTITION OF trig_tree FOR VALUES FROM (%s) TO (%s)', 'trig_tree_' || i, i, i + 1);
		   END LOOP; END $$`,
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	var parts float64
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_partition_tree('activity_metrics_v2')`).Scan(&parts); err != nil {
		t.Fatal(err)
	}
	if got := rowsExamined(t, ctx, conn, batchCheckableSQL, table, users); got > 40*parts {
		t.Errorf("the check of %v relations examined %v catalogue rows; want at most %v", parts, got, 40*parts)
	}
	ok, err := batchCheckable(ctx, conn, table, users)
	if err != nil || !ok {
		t.Fatalf("activity_metrics_v2 without triggers: batchCheckable = %v, %v; want true", ok, err)
	}
	var part string
	if err := conn.QueryRow(ctx, `SELECT relid::regclass::text FROM pg_partition_tree('activity_metrics_v2') WHERE isleaf LIMIT 1`).Scan(&part); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf(`CREATE TRIGGER one_partition BEFORE INSERT ON %s FOR EACH ROW EXECUTE FUNCTION trig_tree_seen()`,
		pgx.Identifier{part}.Sanitize())); err != nil {
		t.Fatal(err)
	}
	if ok, err := batchCheckable(ctx, conn, table, users); err != nil || ok {
		t.Errorf("a trigger on partition %s: batchCheckable = %v, %v; want false", part, ok, err)
	}
}

// batchCheckableJoinSQL is the check as it was before batchCheckableSQL:
// the partition tree joined to whole catalogues. Kept to measure both side
// by side.
const batchCheckableJoinSQL = `
	WITH rels AS (SELECT $1::regclass AS relid
	              UNION SELECT relid FROM pg_partition_tree($1::regclass))
	SELECT NOT EXISTS (SELECT 1 FROM pg_trigger t JOIN rels ON t.tgrelid = rels.relid
	                    WHERE NOT t.tgisinternal
	                      AND (t.tgenabled = 'R' OR (t.tgenabled = 'O' AND t.tgtype & 4 <> 0)))
	   AND NOT EXISTS (SELECT 1 FROM pg_rewrite r JOIN rels ON r.ev_class = rels.relid
	                    WHERE r.rulename <> '_RETURN')
	   AND NOT EXISTS (SELECT 1 FROM pg_constraint c JOIN rels ON c.conrelid = rels.relid
	                    WHERE c.contype = 'f'
	                      AND (c.confrelid <> $2::regclass
	                           OR c.conkey <> ARRAY[(SELECT a.attnum FROM pg_attribute a
	                                                  WHERE a.attrelid = c.conrelid AND a.attname = 'user_id')]))`

// BenchmarkBatchCheckable times the foreign-key check every ingest batch
// runs on activity_metrics_v2, the former join and the current per-relation
// lookups alternately, with 12, 60 and 120 monthly partitions on every
// table hmperf.maintain_partitions() keeps (the scale benchmark's sizes). It
// reports each one's median µs and the catalogue rows each examined.
//
//	go test ./queries/ingest -run '^$' -bench BenchmarkBatchCheckable -benchtime 200x
func BenchmarkBatchCheckable(b *testing.B) {
	ctx, conn, table, users := catalogConn(b)
	for _, months := range []int{12, 60, 120} {
		if err := scale.SetMonths(ctx, conn, months); err != nil {
			b.Fatal(err)
		}
		if _, err := indexq.MaintainPartitions(ctx, conn); err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("months=%d", months), func(b *testing.B) {
			queries := []string{batchCheckableJoinSQL, batchCheckableSQL}
			spent := make([][]time.Duration, len(queries))
			for b.Loop() {
				for i, q := range queries {
					var ok bool
					start := time.Now()
					if err := conn.QueryRow(ctx, q, table, users).Scan(&ok); err != nil || !ok {
						b.Fatalf("%v, %v", ok, err)
					}
					spent[i] = append(spent[i], time.Since(start))
				}
			}
			for i, name := range []string{"join", "lookup"} {
				slices.Sort(spent[i])
				b.ReportMetric(float64(spent[i][len(spent[i])/2].Nanoseconds())/1000, name+"_µs")
				b.ReportMetric(rowsExamined(b, ctx, conn, queries[i], table, users), name+"_rows")
			}
		})
	}
}
