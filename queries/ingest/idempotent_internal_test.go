package ingest

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/engine"
	"hmperf/queries/catalog"
	"hmperf/queries/pgtest"
)

// TestAntiJoinUsesTheKeysIndex: on the service's heart_rate_metrics (no
// unique key, a plain index on (user_id, recorded_at)) holding 200,000 rows,
// the lookup of a 5,000-row batch's stored keys probes an index instead of
// reading the whole table, on the project's fixture and on the dump.
func TestAntiJoinUsesTheKeysIndex(t *testing.T) {
	t.Parallel()
	files := map[string]string{"service layout": "../catalog/testdata/service_layout.sql"}
	if dump := "../../../shared/fixtures/original-service/schema.sql"; fileExists(dump) {
		files["service dump"] = dump
	}
	for name, file := range files {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dsn := pgtest.NewDB(t)
			pgtest.LoadServiceDump(t, dsn, file)
			conn, err := pgx.Connect(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			if _, err := conn.Exec(ctx, `
				WITH u AS (INSERT INTO users (email) SELECT 'u' || g || '@example.invalid' FROM generate_series(1, 100) g RETURNING id)
				INSERT INTO heart_rate_metrics (user_id, recorded_at, heart_rate)
				SELECT u.id, now() - make_interval(secs => g * 13), 70 FROM u, generate_series(1, 2000) g;
				ANALYZE heart_rate_metrics`); err != nil {
				t.Fatal(err)
			}
			live, err := catalog.Read(ctx, conn, pgx.Identifier{"heart_rate_metrics"})
			if err != nil {
				t.Fatal(err)
			}
			m, err := catalog.Map(engine.TableOf(engine.KindHeartRate), live)
			if err != nil {
				t.Fatal(err)
			}
			tbl := newTableTarget(m)
			if err := tbl.probeIndex(ctx, conn); err != nil {
				t.Fatal(err)
			}
			if !tbl.antiJoin() {
				t.Fatalf("heart_rate_metrics has unique keys %v: the fixture should have none on the key", live.UniqueKeys)
			}
			var users [][16]byte
			var times []time.Time
			rows, err := conn.Query(ctx, "SELECT user_id, recorded_at + interval '1 ms' FROM heart_rate_metrics LIMIT 5000")
			if err != nil {
				t.Fatal(err)
			}
			var u [16]byte
			var at time.Time
			if _, err := pgx.ForEachRow(rows, []any{&u, &at}, func() error {
				users, times = append(users, u), append(times, at)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			var plan []struct{ Plan planNode }
			var raw []byte
			if err := conn.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+tbl.stored, users, times).Scan(&raw); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(raw, &plan); err != nil {
				t.Fatal(err)
			}
			scans := plan[0].Plan.scansOf("heart_rate_metrics")
			for _, s := range scans {
				if s == "Seq Scan" {
					t.Errorf("the lookup of stored keys reads heart_rate_metrics whole:\n%s", raw)
				}
			}
			if len(scans) == 0 {
				t.Errorf("no scan of heart_rate_metrics in the plan:\n%s", raw)
			}
		})
	}
}

// scansOf lists the node types of the plan's scans of table.
func (n planNode) scansOf(table string) []string {
	var out []string
	if n.RelationName == table && n.NodeType != "ModifyTable" {
		out = append(out, n.NodeType)
	}
	for _, c := range n.Plans {
		out = append(out, c.scansOf(table)...)
	}
	return out
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
