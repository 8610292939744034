package recording

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
)

// DefaultMaxBytes is the size at which a recording is rotated unless told
// otherwise.
const DefaultMaxBytes = 64 << 20

// DefaultKeep is how many rotated files are kept besides the current one.
const DefaultKeep = 2

// Writer appends records to a recording, rotating it by size: past
// MaxBytes the file becomes path.1 (path.1 becomes path.2, and so on up to
// Keep files) and a new one starts. A record is written with one write
// call and nothing is buffered between records, so a killed process
// leaves every record it appended on disk. It is safe for one goroutine
// at a time; Append and Close lock.
type Writer struct {
	mu       sync.Mutex
	path     string
	maxBytes int64
	keep     int
	header   Header
	f        *os.File
	size     int64
	enc      encoder
}

// Create opens path for appending, creating it and its directory if
// needed. An existing recording of this format version is appended to,
// cut first to its last complete record (a crashed writer's torn frame
// would otherwise hide every record after it); a file of another version
// or not a recording is rotated away untouched. maxBytes <= 0 means
// DefaultMaxBytes, keep < 0 DefaultKeep.
func Create(path string, h Header, maxBytes int64, keep int) (*Writer, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if keep < 0 {
		keep = DefaultKeep
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("recording directory: %w", err)
	}
	w := &Writer{path: path, maxBytes: maxBytes, keep: keep, header: h}
	end, err := completeEnd(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return w, w.start()
	case err != nil:
		if err := w.rotate(); err != nil {
			return nil, err
		}
		return w, w.start()
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("recording %s: %w", path, err)
	}
	if err := f.Truncate(end); err != nil {
		f.Close()
		return nil, fmt.Errorf("recording %s: %w", path, err)
	}
	if _, err := f.Seek(end, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	w.f, w.size = f, end
	return w, nil
}

// completeEnd reads the recording at path and returns where its last
// complete record ends; an error for a file this version does not write.
func completeEnd(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	rd, err := NewReader(f)
	if err != nil {
		return 0, err
	}
	if rd.Header.Version != Version {
		return 0, fmt.Errorf("version %d", rd.Header.Version)
	}
	for {
		if _, err := rd.Next(); err != nil {
			if errors.Is(err, io.EOF) {
				return rd.Offset(), nil
			}
			return 0, err
		}
	}
}

// start creates a new file at path with the header.
func (w *Writer) start() error {
	head, err := encodeHeader(w.header)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("recording %s: %w", w.path, err)
	}
	if _, err := f.Write(head); err != nil {
		f.Close()
		return fmt.Errorf("recording %s: %w", w.path, err)
	}
	w.f, w.size = f, int64(len(head))
	return nil
}

// rotate shifts path.N to path.N+1 (the oldest beyond keep is removed) and
// path to path.1.
func (w *Writer) rotate() error {
	if w.keep == 0 {
		return os.Remove(w.path)
	}
	_ = os.Remove(w.path + "." + strconv.Itoa(w.keep))
	for i := w.keep - 1; i >= 1; i-- {
		from := w.path + "." + strconv.Itoa(i)
		if err := os.Rename(from, w.path+"."+strconv.Itoa(i+1)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return os.Rename(w.path, w.path+".1")
}

// Append writes one record, rotating first if it would take the file past
// the cap.
func (w *Writer) Append(r Record) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	frame, err := w.enc.encode(r)
	if err != nil {
		return err
	}
	if w.f == nil {
		return errors.New("recording closed")
	}
	if w.size+int64(len(frame)) > w.maxBytes && w.size > 0 {
		if err := w.f.Close(); err != nil {
			return err
		}
		w.f = nil
		if err := w.rotate(); err != nil {
			return fmt.Errorf("rotating %s: %w", w.path, err)
		}
		if err := w.start(); err != nil {
			return err
		}
	}
	n, err := w.f.Write(frame)
	w.size += int64(n)
	if err != nil {
		return fmt.Errorf("recording %s: %w", w.path, err)
	}
	return nil
}

// Path is the file being written.
func (w *Writer) Path() string { return w.path }

// Close closes the file.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}

// ReadFile reads every complete record of the recording at path; torn
// reports whether it ended on an incomplete one.
func ReadFile(path string) (h Header, records []Record, torn bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return h, nil, false, err
	}
	defer f.Close()
	rd, err := NewReader(f)
	if err != nil {
		return h, nil, false, fmt.Errorf("%s: %w", path, err)
	}
	for {
		r, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return rd.Header, records, rd.Torn(), nil
		}
		if err != nil {
			return rd.Header, records, false, fmt.Errorf("%s: %w", path, err)
		}
		records = append(records, r)
	}
}

// DefaultPath is where the dashboard records unless told otherwise:
// $XDG_STATE_HOME/hmperf/dashboard.hmrec, else ~/.local/state/hmperf/.
func DefaultPath() (string, error) {
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" || !filepath.IsAbs(dir) {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no state directory for the recording (set XDG_STATE_HOME or --record FILE, or --no-record): %w", err)
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "hmperf", "dashboard.hmrec"), nil
}
