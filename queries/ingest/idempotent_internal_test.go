package ingest

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"hmperf/engine"
	"hmperf/queries/catalog"
	"hmperf/queries/pgtest"
)

// TestAntiJoinUsesTheKeysIndex: on the service's heart_rate_metrics (no
// unique key, a plain index on (user_id, recorded_at)) holding 200,000 rows,
// the anti-join of a 5,000-row batch looks its keys up in an index instead
// of reading the whole table, on the project's fixture and on the dump.
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
			if !tbl.antiJoin() {
				t.Fatalf("heart_rate_metrics has unique keys %v: the fixture should have none on the key", live.UniqueKeys)
			}
			tx, err := conn.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(ctx)
			if _, err := tx.Exec(ctx, tbl.create); err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO "+tbl.stage.Sanitize()+` (user_id, recorded_at, heart_rate)
				SELECT user_id, recorded_at + interval '1 ms', heart_rate FROM heart_rate_metrics LIMIT 5000`); err != nil {
				t.Fatal(err)
			}
			var plan []struct{ Plan planNode }
			var raw []byte
			if err := tx.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+tbl.move).Scan(&raw); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(raw, &plan); err != nil {
				t.Fatal(err)
			}
			scans := plan[0].Plan.scansOf("heart_rate_metrics")
			for _, s := range scans {
				if s == "Seq Scan" {
					t.Errorf("the anti-join reads heart_rate_metrics whole:\n%s", raw)
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
