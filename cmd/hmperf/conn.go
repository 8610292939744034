package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"hmperf/migrations"
	"hmperf/queries"
	"hmperf/queries/pglaunch"
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

func (c *connFlags) register(fs *flag.FlagSet) {
	fs.Var(dsnFlag{c}, "dsn", dsnUsage)
	fs.StringVar(&c.serversPath, "servers", "", serversUsage)
	fs.DurationVar(&c.connectTimeout, "connect-timeout", 10*time.Second, "how long to wait for the server to accept a connection")
	fs.BoolVar(&c.readOnly, "read-only", false, "never write: every session is read-only and write commands are refused")
	fs.DurationVar(&c.lockTimeout, "lock-timeout", time.Second,
		"longest any statement of hmperf waits for a lock (lock_timeout), so the service's statements never queue behind it for longer (0: no limit of hmperf's, the server's own setting)")
	fs.DurationVar(&c.lockWait, "lock-wait", 2*time.Minute,
		"total time a step that locks the service's tables retries with backoff after its lock wait timed out, naming the blocker, before it stops cleanly (0: stop at the first timeout)")
	c.command = fs.Name()
}

// libpqEnv lists the variables whose presence means "the user configured a
// server through the libpq environment".
var libpqEnv = []string{"PGHOST", "PGHOSTADDR", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE", "PGSERVICE", "PGSERVICEFILE", "PGSSLMODE", "PGPASSFILE"}

// target is a resolved database: its configuration and, in embedded mode,
// the cluster hmperf started and must stop.
type target struct {
	cfg      *pgx.ConnConfig
	cluster  *pglaunch.Cluster
	readOnly bool
	// lockWait is --lock-wait: how long a step that locks the service's
	// tables retries after its lock_timeout fired.
	lockWait time.Duration
}

// Embedded reports whether hmperf runs its own throwaway server.
func (t *target) Embedded() bool { return t.cluster != nil }

// Describe names the server without its password, for status lines.
func (t *target) Describe() string {
	if t.cluster != nil {
		return "embedded PostgreSQL (private socket)"
	}
	return fmt.Sprintf("%s@%s:%d/%s", t.cfg.User, t.cfg.Host, t.cfg.Port, t.cfg.Database)
}

// Close stops the embedded server, if any.
func (t *target) Close() {
	if t.cluster != nil {
		if err := t.cluster.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "hmperf: stopping the embedded PostgreSQL: %v\n", err)
		}
	}
}

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
		switch err := t.refuseReplica(ctx); {
		case err == nil:
			fmt.Fprintf(stderr, "hmperf: %d servers given; this command runs on the primary, %s (%s)\n", len(list), name, t.Describe())
			return t, nil
		case errors.Is(err, errReplica):
			why = append(why, name+" is a replica")
		default:
			why = append(why, name+": "+err.Error())
		}
	}
	return nil, fmt.Errorf("none of the %d servers given answers as a primary (%s); this command needs the primary", len(list), strings.Join(why, "; "))
}

// configuredTarget is the server dsn names; libpq's environment and
// .pgpass fill in what it leaves out.
func configuredTarget(dsn string, cf connFlags) (*target, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("invalid connection string: %s", redactDSN(err.Error(), dsn))
	}
	applyConnFlags(cfg, cf)
	return &target{cfg: cfg, readOnly: cf.readOnly, lockWait: cf.lockWait}, nil
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
		if err := migrateEmbedded(ctx, t); err != nil {
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

// embeddedTarget is the target of a server hmperf launched; closing it
// stops the server.
func embeddedTarget(c *pglaunch.Cluster, cf connFlags) (*target, error) {
	cfg, err := pgx.ParseConfig(c.DSN("postgres"))
	if err != nil {
		return nil, err
	}
	applyConnFlags(cfg, cf)
	return &target{cfg: cfg, cluster: c, readOnly: cf.readOnly, lockWait: cf.lockWait}, nil
}

func applyConnFlags(cfg *pgx.ConnConfig, cf connFlags) {
	if cf.connectTimeout > 0 {
		cfg.ConnectTimeout = cf.connectTimeout
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["application_name"] = applicationName(cf.command)
	if cf.lockTimeout > 0 {
		cfg.RuntimeParams["lock_timeout"] = strconv.FormatInt(cf.lockTimeout.Milliseconds(), 10)
	}
	// The service's tables live in public, hmperf's own objects are always
	// schema-qualified. Pinning the path keeps a role whose name matches a
	// schema (the default path starts with "$user") from resolving the
	// service's names anywhere else.
	cfg.RuntimeParams["search_path"] = "public"
	if cf.readOnly {
		// The server enforces it: every transaction of every session is
		// read-only, whatever the role could otherwise do.
		cfg.RuntimeParams["default_transaction_read_only"] = "on"
	}
}

// applicationName is the label of every connection of command: "hmperf"
// followed by the command's name.
func applicationName(command string) string {
	if command == "" {
		return "hmperf"
	}
	if strings.HasPrefix(command, "hmperf") {
		return command
	}
	return "hmperf " + command
}

// connect opens one connection and checks it answers.
func (t *target) connect(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, t.cfg)
	if err != nil {
		return nil, t.connError(err)
	}
	return conn, nil
}

// pool opens a connection pool of at most size connections and checks
// that the server answers.
func (t *target) pool(ctx context.Context, size int32) (*pgxpool.Pool, error) {
	p, err := t.newPool(ctx, size)
	if err != nil {
		return nil, t.connError(err)
	}
	if err := p.Ping(ctx); err != nil {
		p.Close()
		return nil, t.connError(err)
	}
	return p, nil
}

// refuseReplica connects once and refuses a replica (see refuseReplica).
func (t *target) refuseReplica(ctx context.Context) error {
	conn, err := t.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return refuseReplica(ctx, conn)
}

// newPool makes a pool of at most size connections, which connects on
// first use.
func (t *target) newPool(ctx context.Context, size int32) (*pgxpool.Pool, error) {
	pcfg, err := pgxpool.ParseConfig("")
	if err != nil {
		return nil, err
	}
	pcfg.ConnConfig = t.cfg.Copy()
	pcfg.MaxConns = size
	return pgxpool.NewWithConfig(ctx, pcfg)
}

// migrator opens a Migrator, which applies migrations on its own connection.
func (t *target) migrator(ctx context.Context) (*migrations.Migrator, error) {
	cfg := t.cfg.Copy()
	delete(cfg.RuntimeParams, "default_transaction_read_only")
	if err := t.mayMigrate(ctx); err != nil {
		return nil, err
	}
	m, err := migrations.NewWithConfig(ctx, cfg, nil)
	if errors.Is(err, migrations.ErrForeign) {
		return nil, err
	}
	if err != nil {
		return nil, t.describeError(err)
	}
	return m, nil
}

// mayMigrate connects once and refuses a replica, or a role without the
// privileges every change of the schema needs first (migrations.Needs),
// naming the one it lacks and the GRANT.
func (t *target) mayMigrate(ctx context.Context) error {
	conn, err := t.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := refuseReplica(ctx, conn); err != nil {
		return err
	}
	needs := make([]queries.Privilege, len(migrations.Needs))
	for i, n := range migrations.Needs {
		needs[i] = queries.Privilege(n)
	}
	return queries.Require(ctx, conn, "hmperf migrate", needs)
}

// describeError names the server in a failed read's error: a connection
// failure as connError words it, any other error after the server's name.
func (t *target) describeError(err error) error {
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return t.connError(err)
	}
	return fmt.Errorf("%s: %w", t.Describe(), err)
}

// connError turns a connection failure into one line that names the server
// and never the password.
func (t *target) connError(err error) error {
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	if t.cfg.Password != "" {
		msg = strings.ReplaceAll(msg, t.cfg.Password, "****")
	}
	if errors.Is(err, context.DeadlineExceeded) {
		msg += fmt.Sprintf(" (no answer within %s)", t.cfg.ConnectTimeout)
	}
	return fmt.Errorf("cannot connect to %s: %s", t.Describe(), msg)
}

var (
	urlPassword = regexp.MustCompile(`(://[^:/@\s]*:)[^@\s]*@`)
	kvPassword  = regexp.MustCompile(`(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)
)

// redactDSN removes the password of dsn from msg, whatever form it takes.
func redactDSN(msg, dsn string) string {
	for _, re := range []*regexp.Regexp{urlPassword, kvPassword} {
		for _, m := range re.FindAllStringSubmatch(dsn, -1) {
			if secret := strings.TrimPrefix(m[0], m[1]); len(secret) > 1 {
				msg = strings.ReplaceAll(msg, strings.TrimSuffix(secret, "@"), "****")
			}
		}
	}
	msg = urlPassword.ReplaceAllString(msg, "${1}****@")
	return kvPassword.ReplaceAllString(msg, "${1}****")
}
