package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"hmperf/cmd/internal/cmdout"
	"hmperf/queries/pgtest"
)

func TestIndexesProcessAndStatus(t *testing.T) {
	dsn := pgtest.NewMigratedDB(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `
		CREATE TABLE cmd_items AS SELECT g AS a FROM generate_series(1, 1000) g;
		INSERT INTO deferred_index_creation (table_name, index_name, method, columns, strategy)
		VALUES ('cmd_items', 'cmd_items_a', 'btree', '{a}', 'lazy'),
		       ('cmd_items', 'cmd_items_bad', 'btree', '{"a); drop table cmd_items; --"}', 'lazy')`)
	if err != nil {
		t.Fatal(err)
	}
	if r := runCmd(ctx, "", "indexes", "process", "--dsn", dsn, "--read-only"); r.code != 1 || !strings.Contains(r.stderr, "--read-only") {
		t.Errorf("process --read-only: exit %d, %q", r.code, r.stderr)
	}
	r := runCmd(ctx, "", "indexes", "process", "--dsn", dsn)
	if r.code != 1 || !strings.Contains(r.stdout, "1 built, 1 failed") || !strings.Contains(r.stderr, "1 index job failed") {
		t.Errorf("process: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runCmd(ctx, "", "indexes", "status", "--dsn", dsn, "--read-only", "--json")
	var doc cmdout.IndexesStatus
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || r.code != 0 {
		t.Fatalf("status --json: exit %d, %v\n%s", r.code, err, r.stderr)
	}
	if len(doc.Queue) != 2 || len(doc.Performance) != 2 {
		t.Errorf("status: %+v", doc)
	}
	r = runCmd(ctx, "", "indexes", "status", "--dsn", dsn, "--read-only")
	if r.code != 0 || !strings.Contains(r.stdout, "cmd_items_a") || !strings.Contains(r.stdout, "contains a semicolon") {
		t.Errorf("status: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestIndexesUsage(t *testing.T) {
	for _, args := range [][]string{{"indexes"}, {"indexes", "rebuild"}, {"indexes", "status", "process"}} {
		if r := runCmd(context.Background(), "", args...); r.code != 2 {
			t.Errorf("%v: exit %d, want 2", args, r.code)
		}
	}
}
