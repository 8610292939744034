package migrations

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/jackc/pgx/v5"

	"hmperf/queries"
)

// Schema is the schema that holds hmperf's own objects: the version table
// (in golang-migrate's layout, which older hmperf wrote), the adoption record, bookkeeping, helpers and rollups. The
// report's objects keep their names in the default schema.
const Schema = "hmperf"

// BaseVersion is the last base migration: 0001–0014 build the service's own
// tables as hmperf knows them. Adopting a database that the service built
// records this version without running anything; hmperf's own migrations
// (0015 onward) then apply on top.
const BaseVersion uint = 14

// MonitoringVersion is the migration that creates the last of what the
// dashboard's overview reads beside the schema's status: the constraint
// monitor and the alert check (0023_activity_metrics_constraint_monitoring;
// ingest stats and benchmark runs come before it). Below it the overview
// shows the schema only.
const MonitoringVersion uint = 23

// State is what a database is, as far as hmperf's schema management goes.
type State string

// The states a database can be in.
const (
	// StateEmpty: no hmperf version table and none of the service's tables.
	StateEmpty State = "empty"
	// StateHmperf: managed by hmperf (hmperf.schema_migrations, clean).
	StateHmperf State = "hmperf"
	// StateForeign: the service's tables or another tool's migration
	// table, without hmperf's version table.
	StateForeign State = "foreign"
	// StateDirty: hmperf's last migration failed halfway.
	StateDirty State = "dirty"
)

// baseTables are the service's tables that hmperf's base migrations create.
var baseTables = []string{
	"users", "heart_rate_metrics", "blood_pressure_metrics", "sleep_metrics", "workouts",
	"activity_metrics_v2", "nutrition_metrics", "symptoms",
}

// Foreign describes the migration tool that manages a database hmperf did
// not create.
type Foreign struct {
	// Tool names the tool ("sqlx", "golang-migrate", or "unknown" when only
	// the service's tables say so).
	Tool string `json:"tool"`
	// Table is its version table, schema-qualified; empty for "unknown".
	Table string `json:"table,omitempty"`
	// Version is its latest recorded version; empty when not readable.
	Version string `json:"version,omitempty"`
	// Migrations counts its recorded migrations; -1 when not readable.
	Migrations int `json:"migrations"`
	// BaseTables lists which of the service's tables exist.
	BaseTables []string `json:"base_tables"`
}

// Adoption is the record `hmperf migrate adopt` leaves in hmperf.adoption.
type Adoption struct {
	AdoptedAt  string `json:"adopted_at"`
	Tool       string `json:"tool"`
	Version    string `json:"version"`
	BaseTables int    `json:"base_tables"`
}

// Classification says what a database is and what to do next.
type Classification struct {
	State    State     `json:"state"`
	Summary  string    `json:"state_text"`
	Next     string    `json:"next"`
	Foreign  *Foreign  `json:"foreign,omitempty"`
	Adoption *Adoption `json:"adoption,omitempty"`
}

// RequireManaged returns nil when hmperf manages the database, else an error
// saying that command needs hmperf's schema, what the database is and the
// command that moves it on (`hmperf migrate adopt` on the service's own).
func (c Classification) RequireManaged(command string) error {
	if c.State == StateHmperf {
		return nil
	}
	return fmt.Errorf("%s needs hmperf's schema first, and this database is %s; %s", command, c.Summary, c.Next)
}

// Adopted reports whether hmperf manages this database by adoption.
func (c Classification) Adopted() bool { return c.Adoption != nil }

// classify reads the catalogue. It writes nothing and asks existence before
// reading, so a missing table never aborts the caller's transaction.
func classify(ctx context.Context, db queries.DBTX, src fs.FS, st Status, adoptionAccess access) (Classification, error) {
	c := Classification{}
	adoption, err := readAdoptionOf(ctx, db, adoptionAccess)
	if err != nil {
		return c, err
	}
	c.Adoption = adoption
	switch {
	case st.Dirty:
		c.State = StateDirty
	case st.HasVersion:
		c.State = StateHmperf
	default:
		f, err := readForeign(ctx, db)
		if err != nil {
			return c, err
		}
		c.State, c.Foreign = StateEmpty, f
		if f != nil {
			c.State = StateForeign
		}
	}
	c.Summary, c.Next = describe(c, st)
	if c.State == StateDirty {
		if c.Next, err = dirtyAdvice(ctx, db, src, st); err != nil {
			return c, err
		}
	}
	return c, nil
}

// describe words a classification for people: what the database is, and the
// command that moves it on.
func describe(c Classification, st Status) (summary, next string) {
	switch c.State {
	case StateDirty:
		// hmperf itself never leaves a dirty version (each step records
		// its version in its own transaction): an older hmperf or
		// another tool did; classify reads the catalogue for the advice.
		return fmt.Sprintf("dirty at version %04d (a step to it did not finish, under an older hmperf or another tool)", st.Version), ""
	case StateForeign:
		f := c.Foreign
		s := fmt.Sprintf("managed by another tool (%s", f.Tool)
		if f.Migrations >= 0 && f.Table != "" {
			s += fmt.Sprintf(", %d migrations, latest %s", f.Migrations, f.Version)
		}
		s += fmt.Sprintf("; %d of the service's %d tables present)", len(f.BaseTables), len(baseTables))
		return s, "run `hmperf migrate adopt` to check the tables and record them as hmperf's base without changing them"
	case StateEmpty:
		return "empty (no hmperf schema, none of the service's tables)", "run `hmperf migrate up` to create the schema"
	}
	s := fmt.Sprintf("managed by hmperf, version %d", st.Version)
	if c.Adoption != nil {
		s = fmt.Sprintf("managed by hmperf (adopted from %s %s), version %d", c.Adoption.Tool, c.Adoption.Version, st.Version)
	}
	if st.Pending > 0 {
		return s, fmt.Sprintf("run `hmperf migrate up` to apply %d pending migration(s)", st.Pending)
	}
	return s, "nothing to do: every migration is applied"
}

func readAdoption(ctx context.Context, db queries.DBTX) (*Adoption, error) {
	tables, err := lookUp(ctx, db, adoptionTable)
	if err != nil {
		return nil, err
	}
	return readAdoptionOf(ctx, db, tables[adoptionTable])
}

// adoptionTable records how the service's database was adopted.
const adoptionTable = Schema + ".adoption"

// readAdoptionOf is readAdoption with the catalogue's answer for the
// table already read.
func readAdoptionOf(ctx context.Context, db queries.DBTX, a access) (*Adoption, error) {
	if !a.exists {
		return nil, nil
	}
	if err := a.readable(adoptionTable); err != nil {
		return nil, err
	}
	var ad Adoption
	err := db.QueryRow(ctx, `SELECT to_char(adopted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI "UTC"'), tool, version, base_tables
		  FROM hmperf.adoption ORDER BY adopted_at DESC LIMIT 1`).Scan(&ad.AdoptedAt, &ad.Tool, &ad.Version, &ad.BaseTables)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read hmperf.adoption: %w", err)
	}
	return &ad, nil
}

// readForeign finds another tool's version table or the service's tables;
// nil means neither is there.
func readForeign(ctx context.Context, db queries.DBTX) (*Foreign, error) {
	present, err := presentBaseTables(ctx, db)
	if err != nil {
		return nil, err
	}
	f := &Foreign{Tool: "unknown", Migrations: -1, BaseTables: present}
	for _, cand := range []struct{ tool, table, query string }{
		{"sqlx", "public._sqlx_migrations", `SELECT count(*)::int, coalesce(max(version)::text, '') FROM public._sqlx_migrations`},
		{"golang-migrate", "public.schema_migrations", `SELECT count(*)::int, coalesce(max(version)::text, '') FROM public.schema_migrations`},
	} {
		ok, err := relationExists(ctx, db, cand.table)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		f.Tool, f.Table = cand.tool, cand.table
		if checkReadable(ctx, db, cand.table) == nil {
			if err := db.QueryRow(ctx, cand.query).Scan(&f.Migrations, &f.Version); err != nil {
				return nil, fmt.Errorf("read %s: %w", cand.table, err)
			}
		}
		return f, nil
	}
	if len(present) == 0 {
		return nil, nil
	}
	return f, nil
}

func presentBaseTables(ctx context.Context, db queries.DBTX) ([]string, error) {
	present := []string{}
	err := db.QueryRow(ctx, `SELECT coalesce(array_agg(n ORDER BY o), '{}')
		  FROM unnest($1::text[]) WITH ORDINALITY AS t(n, o)
		 WHERE to_regclass(format('public.%I', n)) IS NOT NULL`, baseTables).Scan(&present)
	if err != nil {
		return nil, fmt.Errorf("look up the service's tables: %w", err)
	}
	return present, nil
}

// relationExists looks a schema-qualified name up in the catalogue, which
// needs no privilege (to_regclass fails without USAGE on the schema).
func relationExists(ctx context.Context, db queries.DBTX, qualified string) (bool, error) {
	var ok bool
	err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		 WHERE n.nspname = split_part($1, '.', 1) AND c.relname = split_part($1, '.', 2))`, qualified).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("look up %s: %w", qualified, err)
	}
	return ok, nil
}

// checkReadable says which GRANT is missing when this role may not read a
// table of an existing schema-qualified name.
func checkReadable(ctx context.Context, db queries.DBTX, qualified string) error {
	var usage, sel bool
	err := db.QueryRow(ctx, `SELECT has_schema_privilege(n.oid, 'USAGE'), has_table_privilege(c.oid, 'SELECT')
		  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		 WHERE n.nspname = split_part($1, '.', 1) AND c.relname = split_part($1, '.', 2)`, qualified).Scan(&usage, &sel)
	if err != nil {
		return fmt.Errorf("look up %s: %w", qualified, err)
	}
	return access{exists: true, usage: usage, sel: sel}.readable(qualified)
}

// access is what the catalogue says of one table for this role.
type access struct{ exists, usage, sel bool }

// readable says which GRANT is missing when this role may not read the
// existing table qualified.
func (a access) readable(qualified string) error {
	schema, _, _ := strings.Cut(qualified, ".")
	switch {
	case !a.usage:
		return fmt.Errorf("cannot read %s: this role lacks USAGE on schema %s (GRANT USAGE ON SCHEMA %s TO <role>)", qualified, schema, schema)
	case !a.sel:
		return fmt.Errorf("cannot read %s: this role lacks SELECT on it (GRANT SELECT ON ALL TABLES IN SCHEMA %s TO <role>)", qualified, schema)
	}
	return nil
}

// lookUp reads in one round trip whether each schema-qualified table
// exists and whether this role may read it: the status, which the
// dashboard reads every tick, asks it of two tables.
func lookUp(ctx context.Context, db queries.DBTX, qualified ...string) (map[string]access, error) {
	rows, err := db.Query(ctx, `
		SELECT t.name, c.oid IS NOT NULL,
		       coalesce(has_schema_privilege(n.oid, 'USAGE'), false), coalesce(has_table_privilege(c.oid, 'SELECT'), false)
		  FROM unnest($1::text[]) AS t(name)
		  LEFT JOIN pg_namespace n ON n.nspname = split_part(t.name, '.', 1)
		  LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = split_part(t.name, '.', 2)`, qualified)
	if err != nil {
		return nil, fmt.Errorf("look up %s: %w", strings.Join(qualified, ", "), err)
	}
	out := make(map[string]access, len(qualified))
	for rows.Next() {
		var name string
		var a access
		if err := rows.Scan(&name, &a.exists, &a.usage, &a.sel); err != nil {
			return nil, fmt.Errorf("look up %s: %w", strings.Join(qualified, ", "), err)
		}
		out[name] = a
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("look up %s: %w", strings.Join(qualified, ", "), err)
	}
	return out, nil
}

// HasSchema reports whether hmperf's own schema (Schema) exists.
func HasSchema(ctx context.Context, db queries.DBTX) (bool, error) {
	var ok bool
	err := db.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", Schema).Scan(&ok)
	return ok, err
}
