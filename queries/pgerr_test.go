package queries_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

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

// TestKindOf: every SQLSTATE hmperf words is classified by its own kind,
// and the class fallbacks catch the codes not named.
func TestKindOf(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		code      string
		want      queries.Kind
		transient bool
		integrity bool
	}{
		{"", queries.KindNone, false, false},
		{pgerrcode.UniqueViolation, queries.KindUnique, false, true},
		{pgerrcode.CheckViolation, queries.KindCheck, false, true},
		{pgerrcode.ForeignKeyViolation, queries.KindForeignKey, false, true},
		{pgerrcode.NotNullViolation, queries.KindNotNull, false, true},
		{pgerrcode.ExclusionViolation, queries.KindIntegrity, false, true},
		{pgerrcode.InvalidTextRepresentation, queries.KindData, false, false},
		{pgerrcode.LockNotAvailable, queries.KindLockTimeout, false, false},
		{pgerrcode.InsufficientPrivilege, queries.KindPrivilege, false, false},
		{pgerrcode.UndefinedTable, queries.KindUndefined, false, false},
		{pgerrcode.UndefinedFunction, queries.KindUndefined, false, false},
		{pgerrcode.UndefinedColumn, queries.KindUndefined, false, false},
		{pgerrcode.InvalidSchemaName, queries.KindUndefined, false, false},
		{pgerrcode.ReadOnlySQLTransaction, queries.KindReadOnly, false, false},
		{pgerrcode.ConnectionFailure, queries.KindConnection, true, false},
		{pgerrcode.AdminShutdown, queries.KindConnection, true, false},
		{pgerrcode.CannotConnectNow, queries.KindConnection, true, false},
		{pgerrcode.QueryCanceled, queries.KindCanceled, true, false},
		{pgerrcode.DeadlockDetected, queries.KindDeadlock, true, false},
		{pgerrcode.SerializationFailure, queries.KindSerialization, true, false},
		{pgerrcode.TooManyConnections, queries.KindBusy, true, false},
		{pgerrcode.DatabaseDropped, queries.KindInterrupted, true, false},
		{pgerrcode.SyntaxError, queries.KindOther, false, false},
	} {
		got := queries.KindOf(tc.code)
		if got != tc.want || got.Transient() != tc.transient || got.Integrity() != tc.integrity {
			t.Errorf("KindOf(%q) = %v (transient %v, integrity %v); want %v (%v, %v)",
				tc.code, got, got.Transient(), got.Integrity(), tc.want, tc.transient, tc.integrity)
		}
		err := fmt.Errorf("wrapped: %w", &pgconn.PgError{Code: tc.code})
		if tc.code != "" && queries.Classify(err) != tc.want {
			t.Errorf("Classify(%v) = %v; want %v", err, queries.Classify(err), tc.want)
		}
	}
	if queries.Classify(nil) != queries.KindNone || queries.Classify(errors.New("socket closed")) != queries.KindNone {
		t.Error("an error with no server refusal in it is not KindNone")
	}
}
