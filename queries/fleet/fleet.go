// Package fleet reads what the Servers panel shows of each server in a set
// of a primary and its streaming replicas: role, version, connections, the
// cumulative counters behind transactions and inserted rows per second, and
// replication lag. Every read is a SELECT over PostgreSQL's own statistics
// views and functions; nothing is written, so it runs unchanged on a
// replica, and it needs no hmperf object, so it works on any server.
package fleet

import (
	"context"
	"strconv"
	"strings"
	"time"

	"hmperf/queries"
)

// Role is a server's part in the set, from pg_is_in_recovery().
type Role string

// The two roles.
const (
	Primary Role = "primary"
	Replica Role = "replica"
)

// Stats is one read of one server.
type Stats struct {
	// At is when the server read its counters (its clock), so that rates
	// divide by the server's own elapsed time.
	At      time.Time
	Role    Role
	Version string // server_version's number, without the packager's suffix
	// Connections counts client backends, this read's own included.
	Connections int
	// Xacts is the database's committed plus rolled-back transactions since
	// its statistics were reset (pg_stat_database), hmperf's reads
	// included.
	Xacts int64
	// Inserted is the rows inserted into the database since its statistics
	// were reset (pg_stat_database.tup_inserted: every table's, rolled-back
	// rows, hmperf's bookkeeping and the catalogue's included), nil on a
	// replica: replay does not count as inserts there, so a replica's ingest
	// cannot be seen, only its lag. It is the database's one counter rather
	// than a sum over the service's tables because that sum reads every
	// partition's statistics: with ten years of monthly partitions it made
	// this read 5 times slower (see BenchmarkScale).
	Inserted *int64
	// StatsReset is pg_stat_database.stats_reset, so that a reset between
	// two reads is not taken for a rate.
	StatsReset *time.Time
	// WAL is the server's WAL position: written (primary) or replayed
	// (replica).
	WAL string
	// LagBytes and LagSeconds are the replication lag, nil where the
	// server cannot tell (see Read). On a primary, the largest over its
	// standbys and inactive slots; Standbys counts the standbys streaming
	// from it.
	LagBytes   *float64
	LagSeconds *float64
	Standbys   int
}

// Read reads one server. A replica's lag in bytes is what it received and
// has not replayed yet, which is all a replica can know by itself;
// Reconcile measures it against its primary's position when the primary
// was read in the same round.
//
// The lag follows the alert function's definitions (migration 0030), so
// the panel and `hmperf alerts` agree: on a primary, bytes between its
// current position and each standby's replay position and seconds from
// pg_stat_replication.replay_lag, plus each inactive physical slot's
// backlog; on a replica, 0 seconds while it streams and has replayed all
// it received (an idle primary sends nothing to replay), else the time
// since its last replayed transaction committed, which grows while the
// primary is gone.
func Read(ctx context.Context, db queries.DBTX) (Stats, error) {
	var s Stats
	var replica bool
	// One statement for the server and its lag, whichever its role: the
	// dashboard reads every server every tick. Each lag is asked only on
	// the role it is for (CASE evaluates its branches lazily), since
	// pg_current_wal_lsn() fails on a replica.
	err := db.QueryRow(ctx, `
		WITH me AS (SELECT pg_is_in_recovery() AS replica)
		SELECT clock_timestamp(), me.replica, split_part(current_setting('server_version'), ' ', 1),
		       (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int,
		       d.xact_commit + d.xact_rollback, d.stats_reset,
		       CASE WHEN NOT me.replica THEN d.tup_inserted END,
		       (CASE WHEN me.replica THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END)::text,
		       CASE WHEN me.replica THEN `+replicaLagBytes+` ELSE (SELECT max(bytes) FROM (`+primaryLag+`) l) END,
		       CASE WHEN me.replica THEN `+replicaLagSeconds+` ELSE (SELECT max(seconds) FROM (`+primaryLag+`) l) END,
		       CASE WHEN me.replica THEN 0 ELSE (SELECT count(*) FILTER (WHERE streaming) FROM (`+primaryLag+`) l)::int END
		  FROM pg_stat_database d, me
		 WHERE d.datname = current_database()`).
		Scan(&s.At, &replica, &s.Version, &s.Connections, &s.Xacts, &s.StatsReset, &s.Inserted, &s.WAL,
			&s.LagBytes, &s.LagSeconds, &s.Standbys)
	s.Role = Primary
	if replica {
		s.Role = Replica
	}
	return s, err
}

// primaryLag is, on a primary, the lag of each standby streaming from it
// and the backlog of each inactive physical slot.
const primaryLag = `
		    SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), r.replay_lsn)::float8 AS bytes,
		           extract(epoch FROM r.replay_lag)::float8 AS seconds, true AS streaming
		      FROM pg_stat_replication r
		    UNION ALL
		    SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn)::float8, NULL, false
		      FROM pg_replication_slots s
		     WHERE s.slot_type = 'physical' AND NOT s.active AND s.restart_lsn IS NOT NULL`

// replicaLagBytes is, on a replica, what it received and has not replayed.
const replicaLagBytes = `pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::float8`

// replicaLagSeconds is, on a replica, 0 while it streams and has replayed
// all it received, else the time since its last replayed transaction.
const replicaLagSeconds = `CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()
		             AND (NOT pg_has_role('pg_read_all_stats', 'USAGE')
		                  OR EXISTS (SELECT FROM pg_stat_wal_receiver w WHERE w.status = 'streaming'))
		            THEN 0
		            ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END::float8`

// Reconcile measures each replica's lag in bytes against the primary read
// in the same round: the WAL the primary has written that the replica has
// not replayed. It does so only when exactly one server of the round is a
// primary (with two, after a failover, which one a replica follows is not
// known) and leaves the replica's own figure otherwise. read[i] says
// whether stats[i] comes from this round.
func Reconcile(stats []Stats, read []bool) {
	primary := -1
	for i, s := range stats {
		if read[i] && s.Role == Primary {
			if primary >= 0 {
				return
			}
			primary = i
		}
	}
	if primary < 0 {
		return
	}
	top, ok := ParseLSN(stats[primary].WAL)
	if !ok {
		return
	}
	for i := range stats {
		if !read[i] || stats[i].Role != Replica {
			continue
		}
		if pos, ok := ParseLSN(stats[i].WAL); ok {
			// The servers were read a moment apart: a replica that
			// replayed past the position the primary reported is not behind.
			lag := float64(max(int64(top)-int64(pos), 0))
			stats[i].LagBytes = &lag
		}
	}
}

// ParseLSN reads a WAL position as PostgreSQL prints it ("16/B374D848").
func ParseLSN(s string) (uint64, bool) {
	hi, lo, ok := strings.Cut(s, "/")
	if !ok {
		return 0, false
	}
	h, err1 := strconv.ParseUint(hi, 16, 32)
	l, err2 := strconv.ParseUint(lo, 16, 32)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return h<<32 | l, true
}

// Rate is a per-second rate between two reads, nil when it cannot be told:
// no earlier read, a statistics reset or a server restart in between (a
// counter that went down), or no time between them.
func Rate(prev, cur Stats, counter func(Stats) *int64) *float64 {
	a, b := counter(prev), counter(cur)
	secs := cur.At.Sub(prev.At).Seconds()
	switch {
	case prev.At.IsZero(), a == nil, b == nil, secs <= 0, *b < *a, !sameReset(prev.StatsReset, cur.StatsReset):
		return nil
	}
	r := float64(*b-*a) / secs
	return &r
}

// TPS is the transactions-per-second counter for Rate.
func TPS(s Stats) *int64 { return &s.Xacts }

// InsertRate is the inserted-rows counter for Rate.
func InsertRate(s Stats) *int64 { return s.Inserted }

func sameReset(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}
