package queries

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Privilege is one privilege a command needs on one object: Kind is what
// GRANT calls the object (TABLE, FUNCTION, SCHEMA, DATABASE), Object its
// name as SQL (schema-qualified; a function with its argument types),
// Privilege the privilege (INSERT, UPDATE, EXECUTE, CREATE, ...).
type Privilege struct {
	Kind, Object, Privilege string
}

// Grant is the statement that gives role p.
func (p Privilege) Grant(role string) string {
	return fmt.Sprintf("GRANT %s ON %s %s TO %s", p.Privilege, p.Kind, p.Object, pgx.Identifier{role}.Sanitize())
}

// PrivilegeError says which privilege the role lacks, for what, and the
// GRANT that gives it.
type PrivilegeError struct {
	Role string
	For  string // what needs it: "hmperf ingest"
	Need Privilege
}

func (e *PrivilegeError) Error() string {
	return fmt.Sprintf("role %s lacks %s on %s %s, which %s needs: %s (or run it as a role that may)",
		e.Role, e.Need.Privilege, e.Need.Kind, e.Need.Object, e.For, e.Need.Grant(e.Role))
}

// hasPrivilege asks the catalogue whether the session's role holds p. An
// object that does not exist counts as held: what is missing is for the
// caller's own statements to report, not a privilege to grant.
const hasPrivilege = `
SELECT current_user::text,
       CASE $1::text
         WHEN 'TABLE'    THEN to_regclass($2) IS NULL OR has_table_privilege($2, $3)
         WHEN 'FUNCTION' THEN to_regprocedure($2) IS NULL OR has_function_privilege($2, $3)
         WHEN 'SCHEMA'   THEN to_regnamespace($2) IS NULL OR has_schema_privilege($2, $3)
         WHEN 'DATABASE' THEN has_database_privilege(current_database(), $3)
       END`

// Require checks needs in order and returns a *PrivilegeError for the
// first one the session's role lacks, so a command refuses in one line
// before it writes anything. what names what needs them.
func Require(ctx context.Context, db DBTX, what string, needs []Privilege) error {
	for _, p := range needs {
		var role string
		var ok *bool
		if err := db.QueryRow(ctx, hasPrivilege, p.Kind, p.Object, p.Privilege).Scan(&role, &ok); err != nil {
			return fmt.Errorf("check %s on %s %s: %w", p.Privilege, p.Kind, p.Object, err)
		}
		if ok == nil {
			return fmt.Errorf("check %s on %s %s: unknown kind of object", p.Privilege, p.Kind, p.Object)
		}
		if !*ok {
			if p.Kind == "DATABASE" {
				p.Object = pgx.Identifier{databaseOf(ctx, db)}.Sanitize()
			}
			return &PrivilegeError{Role: role, For: what, Need: p}
		}
	}
	return nil
}

// databaseOf names the session's database, for a GRANT on it.
func databaseOf(ctx context.Context, db DBTX) string {
	var name string
	if err := db.QueryRow(ctx, "SELECT current_database()").Scan(&name); err != nil {
		return "current_database"
	}
	return name
}
