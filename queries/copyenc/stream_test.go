package copyenc_test

import (
	"bytes"
	"io"
	"testing"

	"hmperf/engine"
	"hmperf/queries/copyenc"
)

// TestReaderStreamsWhatAppendAllEncodes: the reader hands out, in reads of
// any size, the bytes of one whole encoding, and its memory does not grow
// with the rows: reading 20 times as many rows allocates no more.
func TestReaderStreamsWhatAppendAllEncodes(t *testing.T) {
	l := ownLayout(t, engine.KindNutrition)
	recs := generated(t, engine.KindNutrition, 20000)
	want, err := l.NewEncoder().AppendAll(nil, recs)
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{1, 7, 1000, 65531, 1 << 20} {
		got, err := readAll(l.NewEncoder().NewReader(recs), size)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("reads of %d bytes: %d bytes differ from AppendAll's %d", size, len(got), len(want))
		}
	}
	p := make([]byte, 65531)
	allocs := func(n int) float64 {
		return testing.AllocsPerRun(3, func() {
			if _, err := io.CopyBuffer(io.Discard, onlyReader{l.NewEncoder().NewReader(recs[:n])}, p); err != nil {
				t.Fatal(err)
			}
		})
	}
	if few, many := allocs(1000), allocs(20000); many > few {
		t.Errorf("streaming 20,000 rows allocated %v times, 1,000 rows %v", many, few)
	}
}

// onlyReader hides any WriterTo, so io.CopyBuffer reads through p.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func readAll(r *copyenc.Reader, size int) ([]byte, error) {
	var out []byte
	p := make([]byte, size)
	for {
		n, err := r.Read(p)
		out = append(out, p[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
	}
}
