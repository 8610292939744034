package main

import (
	"context"
	"io"
	"time"

	"github.com/spf13/pflag"

	"hmperf/cmd/internal/dbtarget"
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

// resolveTarget picks the database of the command line (see
// dbtarget.Resolve).
func resolveTarget(ctx context.Context, cf connFlags, stderr io.Writer) (*target, error) {
	list, err := cf.servers()
	if err != nil {
		return nil, err
	}
	return dbtarget.Resolve(ctx, list, cf.settings(), stderr)
}

// openSchema resolves the target with the schema applied on hmperf's own
// embedded server (see dbtarget.OpenSchema).
func openSchema(ctx context.Context, cf connFlags, stderr io.Writer) (*target, error) {
	list, err := cf.servers()
	if err != nil {
		return nil, err
	}
	return dbtarget.OpenSchema(ctx, list, cf.settings(), stderr)
}
