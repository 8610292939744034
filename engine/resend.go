package engine

import (
	"fmt"
	"math"
)

// DefaultUploadSize is how many records one replayed upload holds unless
// told otherwise.
const DefaultUploadSize = 1000

// Resender replays sample uploads the way the iOS app sends them: it
// re-uploads overlapping windows, so every upload after the first starts
// with the last Share of the previous upload's records, byte-identical
// copies, and fills the rest with fresh samples. A record can so be sent
// several times when Share is over one half, as a sliding window re-sends
// it. Not safe for concurrent use.
type Resender struct {
	g      *Generator
	size   int
	repeat int
	prev   []Record
}

// NewResender returns a Resender of uploads of size records each repeating
// share (0 ≤ share < 1) of the previous one, over samples drawn from
// cfg. cfg's own DupRate adds repeats within uploads on top; set it to 0 to
// measure re-sent windows alone.
func NewResender(cfg GenConfig, size int, share float64) (*Resender, error) {
	if size < 1 {
		return nil, fmt.Errorf("resender: upload size must be at least 1 (got %d)", size)
	}
	if !(share >= 0 && share < 1) {
		return nil, fmt.Errorf("resender: resend share %g must be in [0, 1)", share)
	}
	g, err := NewGenerator(cfg)
	if err != nil {
		return nil, err
	}
	return &Resender{g: g, size: size, repeat: int(math.Round(share * float64(size)))}, nil
}

// Next returns the next upload. Its first records repeat the previous
// upload's last ones, in their order; the slice is the caller's.
func (r *Resender) Next() []Record {
	out := make([]Record, 0, r.size)
	if r.prev != nil {
		for _, rec := range r.prev[len(r.prev)-r.repeat:] {
			out = append(out, rec.Clone())
		}
	}
	for len(out) < r.size {
		out = append(out, r.g.Next().Record)
	}
	r.prev = out
	return out
}
