package bench

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"hmperf/queries"
)

// copyPayload is one variant's rows already encoded as a binary COPY
// stream. Encoding is done before the clock starts: pgx's encoder for
// numeric values is slower than the server's COPY of the same rows, so a
// clock around CopyFrom timed the client's encoder, the same for every
// variant, and drew every ratio towards 1.
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

// encodeCopy encodes rows as a binary COPY stream (header, tuples,
// trailer) with the type map tm, value by value as pgx's CopyFrom does.
func encodeCopy(tm *pgtype.Map, oids []uint32, rows [][]any) ([]byte, error) {
	buf := append([]byte(nil), "PGCOPY\n\377\r\n\000"...)
	buf = binary.BigEndian.AppendUint32(buf, 0) // flags
	buf = binary.BigEndian.AppendUint32(buf, 0) // header extension length
	for i, row := range rows {
		if len(row) != len(oids) {
			return nil, fmt.Errorf("bench: row %d has %d values for %d columns", i, len(row), len(oids))
		}
		buf = binary.BigEndian.AppendUint16(buf, uint16(len(oids)))
		for j, v := range row {
			var err error
			if buf, err = encodeCopyValue(tm, buf, oids[j], v); err != nil {
				return nil, fmt.Errorf("bench: encode row %d column %d: %w", i, j+1, err)
			}
		}
	}
	return binary.BigEndian.AppendUint16(buf, 0xffff), nil // trailer: -1
}

// encodeCopyValue appends one field: its length (-1 for NULL) and bytes.
// A value the map cannot encode directly for oid (a string for an enum,
// say) is read as text for oid first and encoded from that, as pgx does.
func encodeCopyValue(tm *pgtype.Map, buf []byte, oid uint32, v any) ([]byte, error) {
	at := len(buf)
	buf = binary.BigEndian.AppendUint32(buf, 0xffffffff)
	out, err := tm.Encode(oid, pgtype.BinaryFormatCode, v, buf)
	if err != nil {
		if out, err = encodeViaText(tm, buf, oid, v); err != nil {
			return nil, err
		}
	}
	if out == nil { // NULL: keep the -1 length
		return buf, nil
	}
	binary.BigEndian.PutUint32(out[at:], uint32(len(out)-at-4))
	return out, nil
}

func encodeViaText(tm *pgtype.Map, buf []byte, oid uint32, v any) ([]byte, error) {
	s, ok := v.(string)
	if !ok {
		text, err := tm.Encode(oid, pgtype.TextFormatCode, v, nil)
		if err != nil {
			return nil, fmt.Errorf("%T for type %d: %w", v, oid, err)
		}
		s = string(text)
	}
	var parsed any
	if err := tm.Scan(oid, pgtype.TextFormatCode, []byte(s), &parsed); err != nil {
		return nil, fmt.Errorf("%T for type %d: %w", v, oid, err)
	}
	return tm.Encode(oid, pgtype.BinaryFormatCode, parsed, buf)
}

// copyEncoded sends an encoded payload on tx's connection and returns the
// rows the server wrote.
func copyEncoded(ctx context.Context, tx pgx.Tx, p copyPayload) (int64, error) {
	tag, err := tx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(p.data), p.sql)
	return tag.RowsAffected(), err
}
