// Package recording writes, reads, summarizes and plays back dashboard
// recordings: every poll's data as the dashboard saw it, appended to a
// compressed file that a crash leaves readable up to its last complete
// record, rotated by size.
//
// A file is a header, then frames:
//
//	header: "HMPERFRC" | version uint16 | length uint32 | Header as JSON
//	frame:  length uint32 | CRC-32 (IEEE) of payload uint32 | payload
//
// Integers are big-endian; each payload is one Record as JSON, DEFLATE
// compressed on its own, so a frame can be decoded without the ones before
// it and a torn last frame (a killed writer) fails its length or checksum
// and ends the reading cleanly. It imports only tui/source: it stores the
// dashboard's own data types.
package recording

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"time"

	"hmperf/tui/source"
)

// Version is the format version this package writes.
const Version = 1

// magic starts every recording.
const magic = "HMPERFRC"

// maxFrame bounds a frame's length: a larger one is a torn or foreign
// tail, not a record.
const maxFrame = 64 << 20

// Header describes the session that started the file.
type Header struct {
	Version int       `json:"version"`
	Started time.Time `json:"started"`
	// Hmperf is the version of the hmperf that wrote it.
	Hmperf   string        `json:"hmperf"`
	Interval time.Duration `json:"interval"`
	Servers  []string      `json:"servers"`
}

// Record is one poll of every panel: what the dashboard had on screen
// for the server it shows, the set of servers, and the activity. A field
// whose read failed is empty and its error is in Errors, by field name.
type Record struct {
	At          time.Time               `json:"at"`
	Server      string                  `json:"server"`
	Overview    *source.Overview        `json:"overview,omitempty"`
	Constraints []source.ConstraintRow  `json:"constraints,omitempty"`
	Alerts      []source.Alert          `json:"alerts,omitempty"`
	Indexes     *[]source.IndexJob      `json:"indexes,omitempty"`
	Benchmarks  *source.BenchHistory    `json:"benchmarks,omitempty"`
	Ingest      *source.IngestStats     `json:"ingest,omitempty"`
	Migrations  *source.MigrationStatus `json:"migrations,omitempty"`
	Servers     []source.Server         `json:"servers,omitempty"`
	Activity    *source.Activity        `json:"activity,omitempty"`
	Errors      map[string]string       `json:"errors,omitempty"`
}

// decoders turn a frame's payload of each format version into a Record of
// this version. A later version adds its decoder and keeps every older one:
// a newer hmperf reads every older recording.
var decoders = map[int]func([]byte) (Record, error){
	1: decodeV1,
}

// Versions lists the format versions this package reads.
func Versions() []int {
	out := make([]int, 0, len(decoders))
	for v := 1; v <= Version; v++ {
		if decoders[v] != nil {
			out = append(out, v)
		}
	}
	return out
}

func decodeV1(payload []byte) (Record, error) {
	var r Record
	z := flate.NewReader(bytes.NewReader(payload))
	defer z.Close()
	err := json.NewDecoder(z).Decode(&r)
	return r, err
}

// encoder makes frames, reusing its compressor: a new DEFLATE writer
// allocates its tables afresh, most of a small record's cost.
type encoder struct {
	payload bytes.Buffer
	z       *flate.Writer
}

// encode makes the frame of r.
func (e *encoder) encode(r Record) ([]byte, error) {
	e.payload.Reset()
	if e.z == nil {
		z, err := flate.NewWriter(&e.payload, flate.DefaultCompression)
		if err != nil {
			return nil, err
		}
		e.z = z
	} else {
		e.z.Reset(&e.payload)
	}
	if err := json.NewEncoder(e.z).Encode(r); err != nil {
		return nil, err
	}
	if err := e.z.Close(); err != nil {
		return nil, err
	}
	frame := make([]byte, 8, 8+e.payload.Len())
	binary.BigEndian.PutUint32(frame[0:4], uint32(e.payload.Len()))
	binary.BigEndian.PutUint32(frame[4:8], crc32.ChecksumIEEE(e.payload.Bytes()))
	return append(frame, e.payload.Bytes()...), nil
}

// encode makes the frame of r with a compressor of its own.
func encode(r Record) ([]byte, error) {
	var e encoder
	return e.encode(r)
}

// encodeHeader makes the bytes that start a file.
func encodeHeader(h Header) ([]byte, error) {
	h.Version = Version
	body, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	out := []byte(magic)
	out = binary.BigEndian.AppendUint16(out, Version)
	out = binary.BigEndian.AppendUint32(out, uint32(len(body)))
	return append(out, body...), nil
}

// ErrNotRecording is returned for a file that does not start as a
// recording does.
var ErrNotRecording = errors.New("not an hmperf recording")

// Reader reads a recording's records in order.
type Reader struct {
	r       io.Reader
	decode  func([]byte) (Record, error)
	Header  Header
	offset  int64 // end of the last complete frame
	torn    bool
	scratch []byte
}

// NewReader reads the header of a recording; an unknown version is an
// error naming it.
func NewReader(r io.Reader) (*Reader, error) {
	fixed := make([]byte, len(magic)+6)
	if _, err := io.ReadFull(r, fixed); err != nil || string(fixed[:len(magic)]) != magic {
		return nil, ErrNotRecording
	}
	version := int(binary.BigEndian.Uint16(fixed[len(magic):]))
	n := binary.BigEndian.Uint32(fixed[len(magic)+2:])
	decode := decoders[version]
	if decode == nil {
		return nil, fmt.Errorf("recording format version %d, this hmperf reads versions %v", version, Versions())
	}
	if n > maxFrame {
		return nil, ErrNotRecording
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, fmt.Errorf("recording header: %w", ErrNotRecording)
	}
	rd := &Reader{r: r, decode: decode, offset: int64(len(fixed)) + int64(n)}
	if err := json.Unmarshal(body, &rd.Header); err != nil {
		return nil, fmt.Errorf("recording header: %v", err)
	}
	return rd, nil
}

// Next returns the next record, and io.EOF after the last complete one.
// A torn last frame (a writer killed mid-write) ends the records as
// io.EOF too; Torn then reports it.
func (rd *Reader) Next() (Record, error) {
	var head [8]byte
	n, err := io.ReadFull(rd.r, head[:])
	if n == 0 && errors.Is(err, io.EOF) {
		return Record{}, io.EOF
	}
	if err != nil {
		rd.torn = true
		return Record{}, io.EOF
	}
	size, sum := binary.BigEndian.Uint32(head[0:4]), binary.BigEndian.Uint32(head[4:8])
	if size > maxFrame {
		rd.torn = true
		return Record{}, io.EOF
	}
	if cap(rd.scratch) < int(size) {
		rd.scratch = make([]byte, size)
	}
	payload := rd.scratch[:size]
	if _, err := io.ReadFull(rd.r, payload); err != nil || crc32.ChecksumIEEE(payload) != sum {
		rd.torn = true
		return Record{}, io.EOF
	}
	r, err := rd.decode(payload)
	if err != nil {
		return Record{}, fmt.Errorf("record at byte %d: %w", rd.offset, err)
	}
	rd.offset += 8 + int64(size)
	return r, nil
}

// Torn reports whether the records ended on an incomplete frame.
func (rd *Reader) Torn() bool { return rd.torn }

// Offset is where the last complete frame read ends.
func (rd *Reader) Offset() int64 { return rd.offset }
