// Package queries holds the SQL hmperf runs, as typed functions over DBTX.
// Sub-packages group it by job: ingest writing, benchmarks, monitoring and
// alerts, the deferred-index worker, and the dashboard's reads.
package queries

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DBTX is what a pool, a connection and a transaction have in common, so the
// same query code runs inside a test transaction or on a pool. It is the one
// database interface of hmperf: every package's queries take it. Begin is in
// it because ingest, benchmarks and lock-wait retries open transactions of
// their own (on a transaction it opens a savepoint); SendBatch because a
// read the dashboard makes every tick sends its statements in one round
// trip.
type DBTX interface {
	Begin(ctx context.Context) (pgx.Tx, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error)
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// ServerInfo describes the server a measurement ran on.
type ServerInfo struct {
	Version  string            `json:"server_version"`
	Settings map[string]string `json:"settings"`
}

// settingsThatMatter are the server settings that change insert throughput;
// every stored benchmark records them.
var settingsThatMatter = []string{"synchronous_commit", "shared_buffers", "wal_level", "fsync", "full_page_writes", "max_wal_size", "work_mem", "jit"}

// Server reads the server version and the settings that matter.
func Server(ctx context.Context, db DBTX) (ServerInfo, error) {
	info := ServerInfo{Settings: map[string]string{}}
	if err := db.QueryRow(ctx, "SELECT version()").Scan(&info.Version); err != nil {
		return info, err
	}
	rows, err := db.Query(ctx, "SELECT name, setting || coalesce(' ' || unit, '') FROM pg_settings WHERE name = ANY($1)", settingsThatMatter)
	if err != nil {
		return info, err
	}
	defer rows.Close()
	for rows.Next() {
		var name, value string
		if err := rows.Scan(&name, &value); err != nil {
			return info, err
		}
		info.Settings[name] = value
	}
	return info, rows.Err()
}

// CanSkipTriggers reports, as the error it would get, whether the role may
// set session_replication_role = replica, which skips ordinary triggers
// (a superuser, or GRANT SET ON PARAMETER from PostgreSQL 15). It tries in a
// transaction it rolls back.
func CanSkipTriggers(ctx context.Context, db DBTX) error {
	tx, err := db.Begin(ctx)
	if err != nil {
		return err
	}
	defer Rollback(tx)
	_, err = tx.Exec(ctx, "SET LOCAL session_replication_role = replica")
	return err
}

// IsReplica reports whether the server is a replica: a standby in
// recovery, which refuses every write. It is the one place hmperf asks.
func IsReplica(ctx context.Context, db DBTX) (bool, error) {
	var replica bool
	err := db.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&replica)
	return replica, err
}

// rollbackTimeout bounds a rollback on its fresh context.
const rollbackTimeout = 30 * time.Second

// Rollback rolls tx back on a fresh context with a timeout: the caller's
// context may be the reason for the rollback (cancelled, timed out), and
// the rollback must still reach the server. Its error is dropped: after a
// commit it is pgx.ErrTxClosed, and a rollback that fails on a broken
// connection ends the transaction anyway.
func Rollback(tx pgx.Tx) {
	ctx, cancel := context.WithTimeout(context.Background(), rollbackTimeout)
	defer cancel()
	_ = tx.Rollback(ctx)
}
