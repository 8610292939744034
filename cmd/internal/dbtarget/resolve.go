package dbtarget

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"hmperf/queries/pglaunch"
	"hmperf/queries/writepolicy"
)

// libpqEnv lists the variables whose presence means "the user configured a
// server through the libpq environment".
var libpqEnv = []string{"PGHOST", "PGHOSTADDR", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE", "PGSERVICE", "PGSERVICEFILE", "PGSSLMODE", "PGPASSFILE"}

// Resolve picks the database: the first of list (the servers named on the
// command line), the one that answers as primary when list has several,
// else DATABASE_URL, else the libpq environment, else an embedded local
// server (started here).
func Resolve(ctx context.Context, list []Server, s Settings, stderr io.Writer) (*Target, error) {
	switch len(list) {
	case 0:
	case 1:
		return New(list[0].DSN, s)
	default:
		return Primary(ctx, list, s, stderr)
	}
	dsn, configured := os.LookupEnv("DATABASE_URL")
	if !configured {
		for _, name := range libpqEnv {
			if _, ok := os.LookupEnv(name); ok {
				configured = true
				break
			}
		}
	}
	if !configured {
		return StartEmbedded(ctx, s, stderr)
	}
	return New(dsn, s)
}

// Primary is the server of list that answers as a primary: every command
// but alerts (which checks them all) runs there, and says so on stderr.
func Primary(ctx context.Context, list []Server, s Settings, stderr io.Writer) (*Target, error) {
	var why []string
	for i, srv := range list {
		name := srv.Name
		if name == "" {
			name = fmt.Sprintf("--dsn number %d", i+1)
		}
		t, err := New(srv.DSN, s)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		switch err := t.RefuseReplica(ctx); {
		case err == nil:
			fmt.Fprintf(stderr, "hmperf: %d servers given; this command runs on the primary, %s (%s)\n", len(list), name, t.Describe())
			return t, nil
		case errors.Is(err, writepolicy.ErrReplica):
			why = append(why, name+" is a replica")
		default:
			why = append(why, name+": "+err.Error())
		}
	}
	return nil, fmt.Errorf("none of the %d servers given answers as a primary (%s); this command needs the primary", len(list), strings.Join(why, "; "))
}

// OpenSchema resolves the target (see Resolve) and, on hmperf's own
// embedded server, applies the migrations first: nobody else's data lives
// there, so it needs no confirmation. On a configured server the schema is
// left as it is.
func OpenSchema(ctx context.Context, list []Server, s Settings, stderr io.Writer) (*Target, error) {
	t, err := Resolve(ctx, list, s, stderr)
	if err != nil {
		return nil, err
	}
	if t.Embedded() {
		if err := t.MigrateEmbedded(ctx); err != nil {
			t.Close()
			return nil, err
		}
	}
	return t, nil
}

// StartEmbedded launches a throwaway embedded PostgreSQL, saying so on
// stderr; closing the target stops it.
func StartEmbedded(ctx context.Context, s Settings, stderr io.Writer) (*Target, error) {
	fmt.Fprintln(stderr, "hmperf: no database configured (--dsn, DATABASE_URL or PG* variables); starting a throwaway embedded PostgreSQL, discarded on exit")
	c, err := pglaunch.Start(ctx, pglaunch.Options{Fetch: pglaunch.FetchOptions{Progress: stderr}})
	if err != nil {
		return nil, err
	}
	t, err := NewEmbedded(c, s)
	if err != nil {
		c.Stop()
		return nil, err
	}
	return t, nil
}

// Named is a resolved server with the name reports give it.
type Named struct {
	Name string
	*Target
}

// ResolveAll resolves every server of list, or the one server Resolve
// picks when list is empty.
func ResolveAll(ctx context.Context, list []Server, s Settings, stderr io.Writer) ([]Named, error) {
	if len(list) == 0 {
		t, err := Resolve(ctx, nil, s, stderr)
		if err != nil {
			return nil, err
		}
		return []Named{{Name: t.Describe(), Target: t}}, nil
	}
	out := make([]Named, 0, len(list))
	for i, srv := range list {
		t, err := New(srv.DSN, s)
		if err != nil && srv.Name == "" {
			return nil, fmt.Errorf("--dsn number %d: %w", i+1, err)
		}
		if err != nil {
			return nil, fmt.Errorf("server %s: %w", srv.Name, err)
		}
		name := srv.Name
		if name == "" {
			name = t.Describe()
		}
		out = append(out, Named{Name: name, Target: t})
	}
	return out, nil
}
