package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"hmperf/cmd/internal/dbtarget"
	"hmperf/queries/pglaunch"
	"hmperf/queries/writepolicy"
)

// connFlags are the connection flags every subcommand accepts.
type connFlags struct {
	// dsn is the first --dsn: the server of every command that needs one.
	dsn string
	// moreDSNs are the further --dsn values, in order.
	moreDSNs []string
	// serversPath is --servers: a TOML file listing the servers instead.
	serversPath    string
	connectTimeout time.Duration
	readOnly       bool
	// command labels every connection ("hmperf migrate"), so hmperf's own
	// traffic can be told from the service's in pg_stat_activity.
	command string
	// lockTimeout bounds every lock wait of every statement hmperf runs;
	// lockWait is the total time a step that locks the service's tables
	// keeps retrying after its lock timed out.
	lockTimeout time.Duration
	lockWait    time.Duration
}

// Usage texts of the server flags, shared with the command tree's help.
const (
	dsnUsage = "PostgreSQL connection string (URL or key=value); repeat it for a primary and its replicas: " +
		"alerts checks them all, the dashboard shows them all, every other command runs on the one that answers as primary; " +
		"default $DATABASE_URL, then the libpq PG* environment, then an embedded local server"
	serversUsage = "TOML file listing servers ([[server]] with name and dsn; libpq environment and .pgpass still apply): " +
		"alerts checks them all, the dashboard shows them all, every other command runs on the one that answers as primary"
)

// register declares the connection flags on fs, bound to c.
func (c *connFlags) register(fs *pflag.FlagSet) {
	fs.Var(dsnFlag{c}, "dsn", dsnUsage)
	fs.StringVar(&c.serversPath, "servers", "", serversUsage)
	fs.DurationVar(&c.connectTimeout, "connect-timeout", 10*time.Second, "how long to wait for the server to accept a connection")
	fs.BoolVar(&c.readOnly, "read-only", false, "never write: every session is read-only and write commands are refused")
	fs.DurationVar(&c.lockTimeout, "lock-timeout", time.Second,
		"longest any statement of hmperf waits for a lock (lock_timeout), so the service's statements never queue behind it for longer (0: no limit of hmperf's, the server's own setting)")
	fs.DurationVar(&c.lockWait, "lock-wait", 2*time.Minute,
		"total time a step that locks the service's tables retries with backoff after its lock wait timed out, naming the blocker, before it stops cleanly (0: stop at the first timeout)")
}

// settings are the flags every session on a target follows.
func (c connFlags) settings() dbtarget.Settings {
	return dbtarget.Settings{ConnectTimeout: c.connectTimeout, ReadOnly: c.readOnly, Command: c.command,
		LockTimeout: c.lockTimeout, LockWait: c.lockWait}
}

// server is one configured database server (see dbtarget.Server).
type server = dbtarget.Server

// target is a resolved database (see dbtarget).
type target = dbtarget.Target

// configuredTarget is the server dsn names; libpq's environment and
// .pgpass fill in what it leaves out.
func configuredTarget(dsn string, cf connFlags) (*target, error) {
	return dbtarget.New(dsn, cf.settings())
}

// embeddedTarget is the target of a server hmperf launched; closing it
// stops the server.
func embeddedTarget(c *pglaunch.Cluster, cf connFlags) (*target, error) {
	return dbtarget.NewEmbedded(c, cf.settings())
}

// libpqEnv lists the variables whose presence means "the user configured a
// server through the libpq environment".
var libpqEnv = []string{"PGHOST", "PGHOSTADDR", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE", "PGSERVICE", "PGSERVICEFILE", "PGSSLMODE", "PGPASSFILE"}

// resolveTarget picks the database: the first --dsn or --servers entry,
// else DATABASE_URL, else the libpq environment, else an embedded local
// server (started here).
func resolveTarget(ctx context.Context, cf connFlags, stderr io.Writer) (*target, error) {
	list, err := cf.servers()
	if err != nil {
		return nil, err
	}
	switch len(list) {
	case 0:
	case 1:
		return configuredTarget(list[0].DSN, cf)
	default:
		return primaryOf(ctx, list, cf, stderr)
	}
	dsn, configured := os.LookupEnv("DATABASE_URL")
	if !configured {
		dsn, configured = os.LookupEnv("DATABASE_URL")
	}
	if !configured {
		for _, name := range libpqEnv {
			if _, ok := os.LookupEnv(name); ok {
				configured = true
				break
			}
		}
	}
	if !configured {
		return startEmbedded(ctx, cf, stderr)
	}
	return configuredTarget(dsn, cf)
}

// primaryOf is the server of list that answers as a primary: every command
// but alerts (which checks them all) runs there, and says so on stderr.
func primaryOf(ctx context.Context, list []server, cf connFlags, stderr io.Writer) (*target, error) {
	var why []string
	for i, s := range list {
		name := s.Name
		if name == "" {
			name = fmt.Sprintf("--dsn number %d", i+1)
		}
		t, err := configuredTarget(s.DSN, cf)
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

// openSchema resolves the target and, on hmperf's own embedded server,
// applies the migrations first: nobody else's data lives there, so it needs
// no confirmation. On a configured server the schema is left as it is.
func openSchema(ctx context.Context, cf connFlags, stderr io.Writer) (*target, error) {
	t, err := resolveTarget(ctx, cf, stderr)
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

func startEmbedded(ctx context.Context, cf connFlags, stderr io.Writer) (*target, error) {
	fmt.Fprintln(stderr, "hmperf: no database configured (--dsn, DATABASE_URL or PG* variables); starting a throwaway embedded PostgreSQL, discarded on exit")
	c, err := pglaunch.Start(ctx, pglaunch.Options{Fetch: pglaunch.FetchOptions{Progress: stderr}})
	if err != nil {
		return nil, err
	}
	t, err := embeddedTarget(c, cf)
	if err != nil {
		c.Stop()
		return nil, err
	}
	return t, nil
}
