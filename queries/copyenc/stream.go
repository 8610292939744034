package copyenc

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"hmperf/engine"
	"hmperf/queries"
	"hmperf/queries/catalog"
)

// Describe reads the types of the live columns m writes, as the server
// reports them for a COPY (domains as their base type and modifier), and
// lays out kind k's records for them.
func Describe(ctx context.Context, db queries.DBTX, k engine.Kind, m *catalog.Mapping) (*Layout, error) {
	types, err := columnTypes(ctx, db, m.Table.Ident(), m.Columns)
	if err != nil {
		return nil, err
	}
	return New(k, m, types)
}

// columnTypes describes SELECT cols FROM table, as pgx's CopyFrom does,
// and asks pg_type which of the types are enums.
func columnTypes(ctx context.Context, db queries.DBTX, table pgx.Identifier, cols []string) ([]ColumnType, error) {
	list := make([]string, len(cols))
	for i, c := range cols {
		list[i] = pgx.Identifier{c}.Sanitize()
	}
	rows, err := db.Query(ctx, fmt.Sprintf("SELECT %s FROM %s LIMIT 0", strings.Join(list, ", "), table.Sanitize()))
	if err != nil {
		return nil, fmt.Errorf("copyenc: describe %s: %w", table.Sanitize(), err)
	}
	fds := rows.FieldDescriptions()
	types := make([]ColumnType, len(fds))
	oids := make([]uint32, len(fds))
	for i, fd := range fds {
		types[i] = ColumnType{OID: fd.DataTypeOID, Typmod: fd.TypeModifier}
		oids[i] = fd.DataTypeOID
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("copyenc: describe %s: %w", table.Sanitize(), err)
	}
	rows, err = db.Query(ctx, "SELECT oid FROM pg_type WHERE oid = ANY($1) AND typtype = 'e'", oids)
	if err != nil {
		return nil, fmt.Errorf("copyenc: enum types of %s: %w", table.Sanitize(), err)
	}
	enums, err := pgx.CollectRows(rows, pgx.RowTo[uint32])
	if err != nil {
		return nil, fmt.Errorf("copyenc: enum types of %s: %w", table.Sanitize(), err)
	}
	for i := range types {
		for _, e := range enums {
			types[i].Enum = types[i].Enum || types[i].OID == e
		}
	}
	return types, nil
}

// chunkSize is how much COPY data is encoded before it is handed to the
// connection: about one protocol message, so memory stays the same
// whatever the batch size.
const chunkSize = 64 << 10

// Reader streams recs as binary COPY data (header, tuples, trailer),
// encoding about chunkSize bytes at a time into one reused buffer.
type Reader struct {
	enc  *Encoder
	recs []engine.Record
	next int
	buf  []byte
	off  int
	done bool
}

// NewReader returns a reader of recs' COPY data, encoded by e.
func (e *Encoder) NewReader(recs []engine.Record) *Reader {
	return &Reader{enc: e, recs: recs, buf: AppendHeader(make([]byte, 0, chunkSize+chunkSize/4))}
}

// Reset makes r read recs from the start, keeping its buffer.
func (r *Reader) Reset(recs []engine.Record) {
	r.recs, r.next, r.off, r.done = recs, 0, 0, false
	r.buf = AppendHeader(r.buf[:0])
}

// Read implements io.Reader.
func (r *Reader) Read(p []byte) (int, error) {
	// The first read encodes the first chunk behind the header.
	if r.off == len(r.buf) || (r.next == 0 && !r.done) {
		if r.done {
			return 0, io.EOF
		}
		if err := r.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, r.buf[r.off:])
	r.off += n
	return n, nil
}

// fill encodes the next chunk of rows, the trailer after the last.
func (r *Reader) fill() error {
	if r.off > 0 && r.off == len(r.buf) {
		r.buf, r.off = r.buf[:0], 0
	}
	for r.next < len(r.recs) && len(r.buf) < chunkSize {
		var err error
		if r.buf, err = r.enc.AppendRow(r.buf, r.recs[r.next]); err != nil {
			return fmt.Errorf("row %d: %w", r.next, err)
		}
		r.next++
	}
	if r.next == len(r.recs) {
		r.buf, r.done = AppendTrailer(r.buf), true
	}
	return nil
}

// Copy writes recs into table (the layout's table or a twin with its
// columns) by binary COPY on conn and returns the rows the server wrote.
func Copy(ctx context.Context, conn *pgconn.PgConn, l *Layout, table pgx.Identifier, recs []engine.Record) (int64, error) {
	tag, err := conn.CopyFrom(ctx, l.NewEncoder().NewReader(recs), l.SQL(table))
	return tag.RowsAffected(), err
}

// AppendAll appends recs as one whole binary COPY stream.
func (e *Encoder) AppendAll(dst []byte, recs []engine.Record) ([]byte, error) {
	dst = AppendHeader(dst)
	for i, r := range recs {
		var err error
		if dst, err = e.AppendRow(dst, r); err != nil {
			return nil, fmt.Errorf("row %d: %w", i, err)
		}
	}
	return AppendTrailer(dst), nil
}
