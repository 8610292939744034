// Package dbtarget is a resolved database server: its connection settings
// (every session labelled, under lock_timeout, read-only when asked), the
// embedded server hmperf started and must stop, and the connections, pools
// and migrators opened on it, with errors that name the server and never
// its password.
package dbtarget

import (
	"context"
	"errors"
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
	"hmperf/queries/lockwait"
	"hmperf/queries/pglaunch"
	"hmperf/queries/writepolicy"
)

// Settings are the connection flags that shape every session on a target.
type Settings struct {
	ConnectTimeout time.Duration // how long to wait for the server to accept a connection
	ReadOnly       bool          // every session read-only, write commands refused
	// Command labels every connection ("hmperf migrate"), so hmperf's own
	// traffic can be told from the service's in pg_stat_activity.
	Command string
	// LockTimeout bounds every lock wait of every statement; LockWait is
	// the total time a step that locks the service's tables keeps retrying
	// after its lock timed out.
	LockTimeout, LockWait time.Duration
}

// Target is a resolved database: its configuration and, in embedded mode,
// the cluster hmperf started and must stop.
type Target struct {
	cfg      *pgx.ConnConfig
	cluster  *pglaunch.Cluster
	ReadOnly bool
	// lockWait is --lock-wait: how long a step that locks the service's
	// tables retries after its lock_timeout fired.
	lockWait time.Duration
}

// Cluster is the embedded server hmperf started, nil on a configured one.
func (t *Target) Cluster() *pglaunch.Cluster { return t.cluster }

// Embedded reports whether hmperf runs its own throwaway server.
func (t *Target) Embedded() bool { return t.cluster != nil }

// Describe names the server without its password, for status lines.
func (t *Target) Describe() string {
	if t.cluster != nil {
		return "embedded PostgreSQL (private socket)"
	}
	return fmt.Sprintf("%s@%s:%d/%s", t.cfg.User, t.cfg.Host, t.cfg.Port, t.cfg.Database)
}

// Close stops the embedded server, if any.
func (t *Target) Close() {
	if t.cluster != nil {
		if err := t.cluster.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "hmperf: stopping the embedded PostgreSQL: %v\n", err)
		}
	}
}

// New is the server dsn names; libpq's environment and
// .pgpass fill in what it leaves out.
func New(dsn string, cf Settings) (*Target, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("invalid connection string: %s", RedactDSN(err.Error(), dsn))
	}
	cf.Apply(cfg)
	return &Target{cfg: cfg, ReadOnly: cf.ReadOnly, lockWait: cf.LockWait}, nil
}

// NewEmbedded is the target of a server hmperf launched; closing it
// stops the server.
func NewEmbedded(c *pglaunch.Cluster, cf Settings) (*Target, error) {
	cfg, err := pgx.ParseConfig(c.DSN("postgres"))
	if err != nil {
		return nil, err
	}
	cf.Apply(cfg)
	return &Target{cfg: cfg, cluster: c, ReadOnly: cf.ReadOnly, lockWait: cf.LockWait}, nil
}

// Apply sets cf on cfg: the connect timeout, the application_name label,
// lock_timeout, the search path and, with ReadOnly, read-only transactions.
func (cf Settings) Apply(cfg *pgx.ConnConfig) {
	if cf.ConnectTimeout > 0 {
		cfg.ConnectTimeout = cf.ConnectTimeout
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["application_name"] = ApplicationName(cf.Command)
	if cf.LockTimeout > 0 {
		cfg.RuntimeParams["lock_timeout"] = strconv.FormatInt(cf.LockTimeout.Milliseconds(), 10)
	}
	// The service's tables live in public, hmperf's own objects are always
	// schema-qualified. Pinning the path keeps a role whose name matches a
	// schema (the default path starts with "$user") from resolving the
	// service's names anywhere else.
	cfg.RuntimeParams["search_path"] = "public"
	if cf.ReadOnly {
		// The server enforces it: every transaction of every session is
		// read-only, whatever the role could otherwise do.
		cfg.RuntimeParams["default_transaction_read_only"] = "on"
	}
}

// ApplicationName is the label of every connection of command: "hmperf"
// followed by the command's name.
func ApplicationName(command string) string {
	if command == "" {
		return "hmperf"
	}
	if strings.HasPrefix(command, "hmperf") {
		return command
	}
	return "hmperf " + command
}

// Connect opens one connection and checks it answers.
func (t *Target) Connect(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, t.cfg)
	if err != nil {
		return nil, t.ConnError(err)
	}
	return conn, nil
}

// Pool opens a connection pool of at most size connections and checks
// that the server answers.
func (t *Target) Pool(ctx context.Context, size int32) (*pgxpool.Pool, error) {
	p, err := t.NewPool(ctx, size)
	if err != nil {
		return nil, t.ConnError(err)
	}
	if err := p.Ping(ctx); err != nil {
		p.Close()
		return nil, t.ConnError(err)
	}
	return p, nil
}

// RefuseReplica connects once and refuses a replica (see
// writepolicy.RefuseReplica).
func (t *Target) RefuseReplica(ctx context.Context) error {
	conn, err := t.Connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return writepolicy.RefuseReplica(ctx, conn)
}

// NewPool makes a pool of at most size connections, which connects on
// first use.
func (t *Target) NewPool(ctx context.Context, size int32) (*pgxpool.Pool, error) {
	pcfg, err := pgxpool.ParseConfig("")
	if err != nil {
		return nil, err
	}
	pcfg.ConnConfig = t.cfg.Copy()
	pcfg.MaxConns = size
	return pgxpool.NewWithConfig(ctx, pcfg)
}

// Migrator opens a Migrator, which applies migrations on its own connection.
func (t *Target) Migrator(ctx context.Context) (*migrations.Migrator, error) {
	cfg := t.cfg.Copy()
	delete(cfg.RuntimeParams, "default_transaction_read_only")
	if err := t.MayMigrate(ctx); err != nil {
		return nil, err
	}
	m, err := migrations.NewWithConfig(ctx, cfg, nil)
	if errors.Is(err, migrations.ErrForeign) {
		return nil, err
	}
	if err != nil {
		return nil, t.DescribeError(err)
	}
	return m, nil
}

// MayMigrate connects once and refuses a replica, or a role without the
// privileges every change of the schema needs first (migrations.Needs),
// naming the one it lacks and the GRANT.
func (t *Target) MayMigrate(ctx context.Context) error {
	conn, err := t.Connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := writepolicy.RefuseReplica(ctx, conn); err != nil {
		return err
	}
	needs := make([]queries.Privilege, len(migrations.Needs))
	for i, n := range migrations.Needs {
		needs[i] = queries.Privilege(n)
	}
	return queries.Require(ctx, conn, "hmperf migrate", needs)
}

// DescribeError names the server in a failed read's error: a connection
// failure as connError words it, any other error after the server's name.
func (t *Target) DescribeError(err error) error {
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return t.ConnError(err)
	}
	return fmt.Errorf("%s: %w", t.Describe(), err)
}

// ConnError turns a connection failure into one line that names the server
// and never the password.
func (t *Target) ConnError(err error) error {
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	if t.cfg.Password != "" {
		msg = strings.ReplaceAll(msg, t.cfg.Password, "****")
	}
	if errors.Is(err, context.DeadlineExceeded) {
		msg += fmt.Sprintf(" (no answer within %s)", t.cfg.ConnectTimeout)
	}
	return fmt.Errorf("cannot connect to %s: %s", t.Describe(), msg)
}

// RedactDSN removes the password of dsn from msg, whatever form it takes.
func RedactDSN(msg, dsn string) string {
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

// LockPolicy is how a step of this target that locks the service's tables
// retries after its lock_timeout fired: for --lock-wait in all, one line
// per retry to log (nil for none: the dashboard owns the terminal).
// --lock-wait 0 means no retry: the step stops at its first timeout.
func (t *Target) LockPolicy(log io.Writer) lockwait.Policy {
	budget := t.lockWait
	if budget <= 0 {
		budget = -1
	}
	return lockwait.Policy{Budget: budget, Log: log}
}

// DashboardPool opens the dashboard's pool, with JIT compilation off: the
// polls are small reads over bounded time ranges, run every few seconds, and
// the planner's row estimate for the alert check's cross join (thresholds x
// hourly buckets) is far above jit_above_cost, so every poll paid ~50 ms of
// LLVM compilation for a query that runs in under 10 ms (see
// BenchmarkPollCycle in cmd/hmperf). Nothing else on this pool gains from
// JIT: benchmarks and the sample ingest write with COPY and small batches.
func (t *Target) DashboardPool(ctx context.Context) (*pgxpool.Pool, error) {
	t.cfg.RuntimeParams["jit"] = "off"
	return t.Pool(ctx, 8)
}

// LazyPool is a dashboard pool (JIT off, as DashboardPool) that connects
// on first use, so a server that is down at start does not stop the
// dashboard of the set.
func (t *Target) LazyPool(ctx context.Context, size int32) (*pgxpool.Pool, error) {
	t.cfg.RuntimeParams["jit"] = "off"
	return t.NewPool(ctx, size)
}

// CreateStatStatements creates the pg_stat_statements extension in the
// embedded database when its server preloaded the library, so that
// `hmperf monitor` can show insert speeds. hmperf owns that server; on a
// user's database it never creates an extension.
func (t *Target) CreateStatStatements(ctx context.Context) error {
	cfg := t.cfg.Copy()
	delete(cfg.RuntimeParams, "default_transaction_read_only") // as the migrator does
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return t.ConnError(err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := pglaunch.CreateStatStatements(ctx, conn); err != nil {
		return fmt.Errorf("create pg_stat_statements in the embedded server: %w", err)
	}
	return nil
}

var (
	urlPassword = regexp.MustCompile(`(://[^:/@\s]*:)[^@\s]*@`)
	kvPassword  = regexp.MustCompile(`(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)
)

// MigrateEmbedded applies every migration to hmperf's own throwaway server,
// which needs no confirmation: nobody else's data lives there.
func (t *Target) MigrateEmbedded(ctx context.Context) error {
	if !t.Embedded() {
		return errors.New("internal: migrateEmbedded on a configured server")
	}
	m, err := t.Migrator(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	if err := m.Up(); err != nil {
		return fmt.Errorf("apply migrations to the embedded server: %w", err)
	}
	return t.CreateStatStatements(ctx)
}

// ReadStatus reads the schema state on a plain connection: it writes
// nothing (a Migrator creates its version table), so it also works
// with --read-only, for a role that may only read, and on a database hmperf
// does not manage.
func (t *Target) ReadStatus(ctx context.Context) (migrations.Status, error) {
	conn, err := t.Connect(ctx)
	if err != nil {
		return migrations.Status{}, err
	}
	defer conn.Close(context.Background())
	return migrations.ReadStatus(ctx, conn, nil)
}

// HasSchema reports whether hmperf's schema exists (false when it cannot
// tell: the migrator then says what is wrong).
func (t *Target) HasSchema(ctx context.Context) bool {
	conn, err := t.Connect(ctx)
	if err != nil {
		return true
	}
	defer conn.Close(context.WithoutCancel(ctx))
	ok, err := migrations.HasSchema(ctx, conn)
	return ok || err != nil
}
