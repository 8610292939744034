// Package ingest writes batches of engine records into their tables: COPY
// straight into the target when nothing conflicts, COPY into a staging table
// and INSERT … ON CONFLICT when something does, and row by row only when the
// database rejects a value the engine let through. A table with no unique
// key on the record's key has its stored keys looked up first, so those
// records count as duplicates instead of being stored again
// (idempotent.go). Each batch, with its stats and its rejections, is one
// transaction.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"hmperf/engine"
	"hmperf/queries"
	"hmperf/queries/copyenc"
)

// DBRejection is a record the database refused, with its reason.
type DBRejection struct {
	Index  int // position in the slice given to writeTable
	Reason string
	Code   string // the SQLSTATE
}

// Constraint reports whether the refusal was an integrity constraint
// violation (SQLSTATE class 23: CHECK, NOT NULL, foreign key), the
// database's own constraint failures; class 22 is a malformed datum.
func (r DBRejection) Constraint() bool { return queries.KindOf(r.Code).Integrity() }

// tableWrite is the outcome of writing one table's records of a batch.
type tableWrite struct {
	Inserted   int
	Duplicates int // rows whose key already existed in the table
	Rejected   []DBRejection
}

// writeTable inserts recs (all of one kind, already deduplicated within the
// batch) into their table inside tx.
func writeTable(ctx context.Context, tx pgx.Tx, tbl *tableTarget, recs []engine.Record) (tableWrite, error) {
	if len(recs) == 0 {
		return tableWrite{}, nil
	}
	if tbl.antiJoin() {
		// A straight COPY would store again what an earlier import stored.
		return writeNew(ctx, tx, tbl, recs)
	}
	n, err := inSavepoint(ctx, tx, func() (int64, error) {
		return copyenc.Copy(ctx, tx.Conn().PgConn(), tbl.enc, tbl.ident, recs)
	})
	switch {
	case err == nil:
		return tableWrite{Inserted: int(n)}, nil
	case queries.Classify(err) == queries.KindUnique: // some keys exist already
		return upsertViaStaging(ctx, tx, tbl, recs)
	case isDataError(err):
		return writeRowByRow(ctx, tx, tbl, recs)
	default:
		return tableWrite{}, fmt.Errorf("copy into %s: %w", tbl.name, err)
	}
}

// inSavepoint runs fn under a savepoint, rolling back to it when fn fails so
// the transaction stays usable.
func inSavepoint(ctx context.Context, tx pgx.Tx, fn func() (int64, error)) (int64, error) {
	if _, err := tx.Exec(ctx, "SAVEPOINT hmperf_write"); err != nil {
		return 0, err
	}
	n, err := fn()
	if err != nil {
		if _, rbErr := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT hmperf_write"); rbErr != nil {
			return 0, errors.Join(err, rbErr)
		}
		return 0, err
	}
	_, err = tx.Exec(ctx, "RELEASE SAVEPOINT hmperf_write")
	return n, err
}

// upsertViaStaging copies recs into a session-private staging table and moves
// them with ON CONFLICT DO NOTHING, so keys already stored count as
// duplicates instead of failing the batch.
func upsertViaStaging(ctx context.Context, tx pgx.Tx, tbl *tableTarget, recs []engine.Record) (tableWrite, error) {
	if _, err := tx.Exec(ctx, tbl.create); err != nil {
		return tableWrite{}, fmt.Errorf("create staging table for %s: %w", tbl.name, err)
	}
	if _, err := tx.Exec(ctx, "TRUNCATE "+tbl.stage.Sanitize()); err != nil {
		return tableWrite{}, err
	}
	_, err := inSavepoint(ctx, tx, func() (int64, error) {
		return copyenc.Copy(ctx, tx.Conn().PgConn(), tbl.enc, tbl.stage, recs)
	})
	if isDataError(err) { // a malformed datum: the staging table has the live types
		return writeRowByRow(ctx, tx, tbl, recs)
	}
	if err != nil {
		return tableWrite{}, fmt.Errorf("copy into staging for %s: %w", tbl.name, err)
	}
	var tag pgconn.CommandTag
	_, err = inSavepoint(ctx, tx, func() (int64, error) {
		var err error
		tag, err = tx.Exec(ctx, tbl.move)
		return tag.RowsAffected(), err
	})
	if isDataError(err) {
		return writeRowByRow(ctx, tx, tbl, recs)
	}
	if err != nil {
		return tableWrite{}, fmt.Errorf("insert into %s: %w", tbl.name, err)
	}
	inserted := int(tag.RowsAffected())
	return tableWrite{Inserted: inserted, Duplicates: len(recs) - inserted}, nil
}

// writeRowByRow is the slow path for a batch holding a value the database
// rejects (the engine's rules were skipped for the context, or they drifted
// from the schema): each row under its own savepoint, each refusal kept with
// the database's message.
func writeRowByRow(ctx context.Context, tx pgx.Tx, tbl *tableTarget, recs []engine.Record) (tableWrite, error) {
	var out tableWrite
	var raw, vals []any
	for i, r := range recs {
		raw = r.AppendValues(raw[:0])
		vals = tbl.m.Row(vals[:0], raw)
		n, err := inSavepoint(ctx, tx, func() (int64, error) {
			tag, err := tx.Exec(ctx, tbl.insert, vals...)
			return tag.RowsAffected(), err
		})
		switch {
		case err == nil && n == 1:
			out.Inserted++
		case err == nil:
			out.Duplicates++
		case isDataError(err):
			out.Rejected = append(out.Rejected, DBRejection{Index: i, Reason: dbReason(err), Code: queries.Code(err)})
		default:
			return tableWrite{}, fmt.Errorf("insert into %s: %w", tbl.name, err)
		}
	}
	return out, nil
}

func columnList(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = pgx.Identifier{n}.Sanitize()
	}
	return strings.Join(quoted, ", ")
}

// isDataError reports whether err is the database refusing a value: a CHECK,
// a NOT NULL, a foreign key, or a malformed or out-of-range datum (class 22).
func isDataError(err error) bool { return queries.IsDataRefusal(err) }

// dbReason is the reason stored for a database refusal: the constraint's
// name when there is one, else the message.
func dbReason(err error) string {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err.Error()
	}
	if pgErr.ConstraintName != "" {
		return "db:" + pgErr.ConstraintName
	}
	return "db:" + pgErr.Code + " " + pgErr.Message
}
