package bench

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"hmperf/queries"
)

// copyPayload is one variant's rows already encoded as a binary COPY
// stream. Encoding is done before the clock starts: pgx's encoder for
// numeric values was slower than the server's COPY of the same rows, so a
// clock around CopyFrom timed the client's encoder, the same for every
// variant, and drew every ratio towards 1. copyenc's encoder is faster,
// but the clock still times the server alone.
type copyPayload struct {
	sql  string // COPY table (cols) FROM STDIN (FORMAT binary)
	data []byte
}

// copySignature says which variants can share one payload: the same column
// types, and rows that the mapping passes through unchanged.
func copySignature(oids []uint32, direct bool, v Variant) string {
	if !direct {
		return "variant " + string(v)
	}
	return fmt.Sprint("direct ", oids)
}

// describeColumns returns the type OIDs the server reports for the columns
// of table, as pgx's CopyFrom asks for them: a domain reports its base type.
func describeColumns(ctx context.Context, db queries.DBTX, table pgx.Identifier, cols []string) ([]uint32, error) {
	rows, err := db.Query(ctx, "SELECT "+columnList(cols)+" FROM "+table.Sanitize()+" LIMIT 0")
	if err != nil {
		return nil, fmt.Errorf("bench: describe %s: %w", table.Sanitize(), err)
	}
	fds := rows.FieldDescriptions()
	oids := make([]uint32, len(fds))
	for i, fd := range fds {
		oids[i] = fd.DataTypeOID
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("bench: describe %s: %w", table.Sanitize(), err)
	}
	return oids, nil
}

func columnList(cols []string) string {
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = pgx.Identifier{c}.Sanitize()
	}
	return strings.Join(quoted, ", ")
}

// copyEncoded sends an encoded payload on tx's connection and returns the
// rows the server wrote.
func copyEncoded(ctx context.Context, tx pgx.Tx, p copyPayload) (int64, error) {
	tag, err := tx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(p.data), p.sql)
	return tag.RowsAffected(), err
}
