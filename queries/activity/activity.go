// Package activity reads what the server's sessions are doing: every
// session with its state, waits and ages, who blocks whom (a lock tree), the
// session, slot or prepared transaction holding back the oldest xmin, and
// the progress of running maintenance. Everything it reads is visible to a
// role with pg_monitor; it writes nothing.
package activity

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/queries"
)

// Session is one server process as pg_stat_activity shows it. Ages are
// seconds; nil where the session has no transaction or no query.
type Session struct {
	PID             int    `json:"pid"`
	Database        string `json:"database"`
	User            string `json:"user"`
	ApplicationName string `json:"application_name"`
	Client          string `json:"client"`
	BackendType     string `json:"backend_type"`
	// BackendStart tells this process from a later one given the same pid.
	BackendStart    time.Time `json:"backend_start"`
	State           string    `json:"state"`
	WaitEventType   string    `json:"wait_event_type"`
	WaitEvent       string    `json:"wait_event"`
	XactAgeSeconds  *float64  `json:"xact_age_seconds"`
	QueryAgeSeconds *float64  `json:"query_age_seconds"`
	// LockWaitSeconds is how long the session has waited for a lock
	// (pg_locks.waitstart, PostgreSQL 14 and later); nil when it is not
	// waiting for one or the server does not say.
	LockWaitSeconds *float64 `json:"lock_wait_seconds"`
	// Query is the first line of the session's latest query, any
	// password literal in it masked.
	Query string `json:"query"`
	// BlockedBy is every pid that blocks this session's lock request
	// (pg_blocking_pids: holders and requests queued ahead of it); empty
	// when it waits for nothing.
	BlockedBy []int `json:"blocked_by"`
	// Root marks a session that blocks others and waits for none.
	Root bool `json:"root"`
	// HoldsUp is how many sessions wait behind this one, directly or
	// through others.
	HoldsUp int `json:"holds_up"`
	// XminAge is the age in transactions of the oldest xid the session
	// holds back (its backend_xid or backend_xmin); nil when none.
	XminAge *int64 `json:"xmin_age"`
}

// IdleInTransaction reports whether the session holds a transaction open
// without running anything in it.
func (s Session) IdleInTransaction() bool {
	return strings.HasPrefix(s.State, "idle in transaction")
}

// Root is a session that blocks others and waits for none, with the number
// of sessions it holds up.
type Root struct {
	PID     int `json:"pid"`
	HoldsUp int `json:"holds_up"`
}

// XminHolder is what holds back the oldest xmin of the cluster: a session,
// a replication slot or a prepared transaction.
type XminHolder struct {
	Kind string `json:"kind"` // "session", "replication slot" or "prepared transaction"
	// ID is the session's pid, the slot's name or the prepared
	// transaction's gid.
	ID string `json:"id"`
	// XidAge is how many transactions old the held xmin is.
	XidAge int64 `json:"xid_age"`
	// AgeSeconds is how long the session's transaction or the prepared
	// transaction has been open; nil for a slot, which has no such time.
	AgeSeconds *float64 `json:"age_seconds"`
	State      string   `json:"state,omitempty"`
}

// Progress is one running maintenance command as a pg_stat_progress_* view
// reports it.
type Progress struct {
	PID      int    `json:"pid"`
	Command  string `json:"command"` // VACUUM, CREATE INDEX, COPY FROM, ANALYZE, BASE_BACKUP, ...
	Relation string `json:"relation"`
	Phase    string `json:"phase"`
	Done     int64  `json:"done"`
	Total    int64  `json:"total"`
	Unit     string `json:"unit"` // what Done and Total count: blocks, tuples, bytes
	// Percent is Done of Total; nil when the total is not known.
	Percent *float64 `json:"percent"`
}

// Snapshot is one reading of the server's activity.
type Snapshot struct {
	At         time.Time   `json:"at"`
	Sessions   []Session   `json:"sessions"`
	Roots      []Root      `json:"roots"`
	XminHolder *XminHolder `json:"xmin_holder"`
	Progress   []Progress  `json:"progress"`
}

// Read reads every session of the cluster but the reader's own, their lock
// tree, the xmin holder and the progress views.
func Read(ctx context.Context, db queries.DBTX) (Snapshot, error) {
	var r Reader
	return r.Read(ctx, db)
}

// Reader reads snapshots of one server again and again, as the dashboard
// does every tick: it asks the server's version once, which the statements
// depend on, and then reads each snapshot in one round trip. A server is
// only ever upgraded, and a statement written for an older version reads a
// newer one (without what came since). The zero Reader is ready.
type Reader struct {
	num atomic.Int64 // server_version_num, 0 until read
}

// Read reads a snapshot, as the package's Read does.
func (r *Reader) Read(ctx context.Context, db queries.DBTX) (Snapshot, error) {
	var snap Snapshot
	num := int(r.num.Load())
	if num == 0 {
		if err := db.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&num); err != nil {
			return snap, fmt.Errorf("reading the server's version: %w", err)
		}
		r.num.Store(int64(num))
	}
	// One round trip, and one transaction, so that the clock, the
	// sessions, the xmin holder and the progress are one snapshot.
	b := &pgx.Batch{}
	b.Queue("SELECT now()").QueryRow(func(row pgx.Row) error {
		if err := row.Scan(&snap.At); err != nil {
			return fmt.Errorf("reading the server's clock: %w", err)
		}
		return nil
	})
	queueSessions(b, num, &snap.Sessions)
	queueXminHolder(b, &snap.XminHolder)
	queueProgress(b, num, &snap.Progress)
	if err := db.SendBatch(ctx, b).Close(); err != nil {
		return snap, err
	}
	snap.Roots = Tree(snap.Sessions)
	return snap, nil
}

// lockWaitSQL is how long a session has waited for its lock; pg_locks has
// waitstart from PostgreSQL 14.
func lockWaitSQL(num int) string {
	if num < 140000 {
		return "NULL::float8"
	}
	return `(SELECT extract(epoch FROM now() - min(l.waitstart))::float8 FROM pg_locks l
	          WHERE l.pid = a.pid AND NOT l.granted AND l.waitstart IS NOT NULL)`
}

// queueSessions queues the read of every session into *out.
func queueSessions(b *pgx.Batch, num int, out *[]Session) {
	// pg_blocking_pids is asked only for sessions waiting on a lock: it
	// takes the lock manager's partition locks, briefly.
	b.Queue(`
		SELECT a.pid, coalesce(a.datname, ''), coalesce(a.usename, ''), coalesce(a.application_name, ''),
		       CASE WHEN a.client_addr IS NOT NULL THEN host(a.client_addr) || ':' || a.client_port
		            WHEN a.client_port = -1 THEN 'local socket' ELSE '' END,
		       coalesce(a.backend_type, ''), a.backend_start, coalesce(a.state, ''),
		       coalesce(a.wait_event_type, ''), coalesce(a.wait_event, ''),
		       extract(epoch FROM clock_timestamp() - a.xact_start)::float8,
		       extract(epoch FROM clock_timestamp() - a.query_start)::float8,
		       ` + lockWaitSQL(num) + `,
		       coalesce(a.query, ''),
		       CASE WHEN a.wait_event_type = 'Lock' THEN pg_blocking_pids(a.pid) ELSE '{}' END,
		       greatest(age(a.backend_xid), age(a.backend_xmin))::int8
		  FROM pg_stat_activity a
		 WHERE a.pid <> pg_backend_pid()
		   AND (a.backend_type IN ('client backend', 'autovacuum worker', 'walsender') OR a.wait_event_type = 'Lock')
		 ORDER BY a.pid`).Query(func(rows pgx.Rows) error {
		*out = []Session{}
		for rows.Next() {
			var s Session
			var blocked []int32
			if err := rows.Scan(&s.PID, &s.Database, &s.User, &s.ApplicationName, &s.Client, &s.BackendType, &s.BackendStart, &s.State,
				&s.WaitEventType, &s.WaitEvent, &s.XactAgeSeconds, &s.QueryAgeSeconds, &s.LockWaitSeconds,
				&s.Query, &blocked, &s.XminAge); err != nil {
				return fmt.Errorf("reading pg_stat_activity: %w", err)
			}
			s.Query = FirstLine(s.Query)
			s.BlockedBy = make([]int, len(blocked))
			for i, p := range blocked {
				s.BlockedBy[i] = int(p)
			}
			*out = append(*out, s)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("reading pg_stat_activity: %w", err)
		}
		return nil
	})
}

// passwordLiteral matches the literal after PASSWORD in a statement such
// as ALTER ROLE ... PASSWORD '...'.
var passwordLiteral = regexp.MustCompile(`(?i)(password\s*)('(?:[^']|'')*'|\$[a-z0-9_]*\$)`)

// FirstLine is a query's first non-blank line, trimmed, with any password
// literal in it masked.
func FirstLine(q string) string {
	q = passwordLiteral.ReplaceAllString(q, "${1}'***'")
	for _, line := range strings.Split(q, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			return line
		}
	}
	return ""
}

// xminHolder reads the oldest xmin holder. Sessions whose snapshot only
// reflects another's open xid tie with it on age; the older transaction,
// the one that holds the xid, wins the tie.
func queueXminHolder(b *pgx.Batch, out **XminHolder) {
	b.Queue(`
		SELECT kind, id, xid_age, age_seconds, state FROM (
		  SELECT 'session' AS kind, a.pid::text AS id,
		         greatest(age(a.backend_xid), age(a.backend_xmin))::int8 AS xid_age,
		         extract(epoch FROM now() - a.xact_start)::float8 AS age_seconds, coalesce(a.state, '') AS state
		    FROM pg_stat_activity a
		   WHERE a.pid <> pg_backend_pid() AND (a.backend_xid IS NOT NULL OR a.backend_xmin IS NOT NULL)
		  UNION ALL
		  SELECT 'replication slot', s.slot_name::text, greatest(age(s.xmin), age(s.catalog_xmin))::int8, NULL,
		         CASE WHEN s.active THEN 'active' ELSE 'inactive' END
		    FROM pg_replication_slots s
		   WHERE s.xmin IS NOT NULL OR s.catalog_xmin IS NOT NULL
		  UNION ALL
		  SELECT 'prepared transaction', p.gid, age(p.transaction)::int8,
		         extract(epoch FROM now() - p.prepared)::float8, 'prepared'
		    FROM pg_prepared_xacts p
		) x
		ORDER BY xid_age DESC, age_seconds DESC NULLS LAST, kind
		LIMIT 1`).QueryRow(func(row pgx.Row) error {
		var h XminHolder
		err := row.Scan(&h.Kind, &h.ID, &h.XidAge, &h.AgeSeconds, &h.State)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			*out = nil
			return nil
		case err != nil:
			return fmt.Errorf("reading the xmin horizon: %w", err)
		}
		*out = &h
		return nil
	})
}

// progressSQL reads the progress views this server has, as one shape:
// pid, command, relation, phase, done, total, unit. pg_stat_progress_copy
// came with PostgreSQL 14.
func progressSQL(num int) string {
	parts := []string{
		`SELECT pid, 'VACUUM', relid::regclass::text, phase, heap_blks_scanned, heap_blks_total, 'blocks'
		   FROM pg_stat_progress_vacuum`,
		`SELECT pid, command, relid::regclass::text, phase,
		        CASE WHEN blocks_total > 0 THEN blocks_done ELSE tuples_done END,
		        CASE WHEN blocks_total > 0 THEN blocks_total ELSE tuples_total END,
		        CASE WHEN blocks_total > 0 THEN 'blocks' ELSE 'tuples' END
		   FROM pg_stat_progress_create_index`,
		`SELECT pid, 'ANALYZE', relid::regclass::text, phase, sample_blks_scanned, sample_blks_total, 'blocks'
		   FROM pg_stat_progress_analyze`,
		`SELECT pid, 'BASE_BACKUP', '', phase, backup_streamed, coalesce(backup_total, 0), 'bytes'
		   FROM pg_stat_progress_basebackup`,
	}
	if num >= 140000 {
		parts = append(parts, `SELECT pid, command || ' ' || type, coalesce(relid::regclass::text, ''), '',
		        CASE WHEN bytes_total > 0 THEN bytes_processed ELSE tuples_processed END,
		        bytes_total, CASE WHEN bytes_total > 0 THEN 'bytes' ELSE 'tuples' END
		   FROM pg_stat_progress_copy`)
	}
	return strings.Join(parts, "\nUNION ALL\n") + "\nORDER BY 1"
}

// queueProgress queues the read of the progress views into *out.
func queueProgress(b *pgx.Batch, num int, out *[]Progress) {
	b.Queue(progressSQL(num)).Query(func(rows pgx.Rows) error {
		*out = []Progress{}
		for rows.Next() {
			var p Progress
			if err := rows.Scan(&p.PID, &p.Command, &p.Relation, &p.Phase, &p.Done, &p.Total, &p.Unit); err != nil {
				return fmt.Errorf("reading the progress views: %w", err)
			}
			if p.Total > 0 {
				pct := 100 * float64(p.Done) / float64(p.Total)
				p.Percent = &pct
			}
			*out = append(*out, p)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("reading the progress views: %w", err)
		}
		return nil
	})
}
