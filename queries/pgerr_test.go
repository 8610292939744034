package queries_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/queries"
	"hmperf/queries/pgtest"
)

// TestClassifyServerErrors: each kind of refusal the server gives is told
// apart by its SQLSTATE, and written without it.
func TestClassifyServerErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgtest.NewDB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// Roles are cluster-wide: the name is this run's own.
	role := pgx.Identifier{fmt.Sprintf("hmperf_pgerr_%d", time.Now().UnixNano())}.Sanitize()
	if _, err := conn.Exec(ctx, `CREATE TABLE t (n int CHECK (n > 0));
		CREATE ROLE `+role+`; GRANT USAGE ON SCHEMA public TO `+role); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = conn.Exec(context.Background(), "RESET ROLE; DROP OWNED BY "+role+"; DROP ROLE "+role) })
	for _, tc := range []struct {
		name                      string
		sql                       string
		undefined, privilege, bad bool
	}{
		{name: "undefined table", sql: "SELECT * FROM no_such_table", undefined: true},
		{name: "undefined function", sql: "SELECT no_such_function()", undefined: true},
		{name: "undefined column", sql: "SELECT no_such_column FROM t", undefined: true},
		{name: "check violation", sql: "INSERT INTO t VALUES (-1)", bad: true},
		{name: "malformed datum", sql: "SELECT 'x'::int", bad: true},
		{name: "privilege", sql: "SET ROLE " + role + "; SELECT * FROM t", privilege: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := conn.Exec(ctx, tc.sql)
			if _, rerr := conn.Exec(ctx, "RESET ROLE"); rerr != nil {
				t.Fatal(rerr)
			}
			if err == nil {
				t.Fatalf("%s succeeded", tc.sql)
			}
			if queries.IsUndefined(err) != tc.undefined || queries.IsPrivilege(err) != tc.privilege || queries.IsDataRefusal(err) != tc.bad {
				t.Errorf("%v (code %s): undefined %v, privilege %v, data %v", err, queries.Code(err),
					queries.IsUndefined(err), queries.IsPrivilege(err), queries.IsDataRefusal(err))
			}
			if plain := queries.Plain(err); strings.Contains(plain, "SQLSTATE") || plain == "" {
				t.Errorf("Plain = %q", plain)
			}
		})
	}
	if queries.Code(context.Canceled) != "" || queries.Plain(nil) != "" {
		t.Error("an error the server did not give has a code")
	}
}
