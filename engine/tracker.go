package engine

import (
	"encoding/binary"
	"hash/maphash"
	"math/bits"
	"time"
)

// trackerGens is the number of generations a Tracker keeps; when full it
// forgets the oldest, a quarter of its keys.
const trackerGens = 4

const tagShift = 56

// Tracker remembers dedup keys across batches in bounded memory.
//
// Each key is stored as a 128-bit fingerprint (two maphash sums with
// independent random seeds, 9 bits of which are replaced by a generation
// tag and a used-slot bit, so 119 bits identify the key) in an open-addressing table with
// linear probing, sized up front for maxKeys at a load of at most 3/4:
// 16 bytes a slot, 21–43 bytes a key, measured by BenchmarkDedup1M. Two
// different keys share a fingerprint with probability 2^-119; over n
// tracked keys the chance of any false duplicate is about n²/2^120, below
// 10^-23 at a million keys. The seeds are random per Tracker, so payload
// authors cannot aim for a collision.
//
// Keys are grouped in generations of maxKeys/4 insertions. When a new
// generation would push the count past maxKeys, the oldest generation is
// deleted in one sweep (O(table size), once per maxKeys/4 inserts). A
// forgotten key that comes back is not caught here: the database's ON
// CONFLICT on the real unique key is the final guard.
//
// Not safe for concurrent use.
type Tracker struct {
	slots   [][2]uint64
	mask    uint64
	n       int
	max     int
	genSize int
	inGen   int
	gen     uint8 // tag of the current generation
	oldest  uint8 // tag of the oldest live generation
	seeds   [2]maphash.Seed
	stats   DedupStats
	evicted uint64
}

// NewTracker returns a tracker that holds at most maxKeys keys (minimum 16).
func NewTracker(maxKeys int) *Tracker {
	maxKeys = max(maxKeys, 16)
	size := 1 << bits.Len(uint(maxKeys+maxKeys/3))
	return &Tracker{
		slots:   make([][2]uint64, size),
		mask:    uint64(size - 1),
		max:     maxKeys,
		genSize: (maxKeys + trackerGens - 1) / trackerGens,
		seeds:   [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
	}
}

// Seen reports whether k was seen before (and counts it as a duplicate of
// its kind); otherwise it remembers k and returns false.
func (t *Tracker) Seen(k Key) bool {
	fp := t.fingerprint(k)
	for i := fp[0] & t.mask; ; i = (i + 1) & t.mask {
		s := t.slots[i]
		if s[1] == 0 {
			break
		}
		if s[0] == fp[0] && s[1]<<8 == fp[1]<<8 {
			t.stats.ByKind[k.Kind]++
			return true
		}
	}
	t.insert(fp)
	return false
}

// Filter drops the records of batch seen before (in earlier batches or
// earlier in this one) in place and returns the kept prefix.
func (t *Tracker) Filter(batch []Record) []Record {
	start := time.Now()
	kept := batch[:0]
	for _, r := range batch {
		if !t.Seen(r.DedupKey()) {
			kept = append(kept, r)
		}
	}
	clear(batch[len(kept):])
	t.stats.Elapsed += time.Since(start)
	return kept
}

// Len returns the number of keys held.
func (t *Tracker) Len() int { return t.n }

// Evicted returns how many keys were forgotten to stay within the bound.
func (t *Tracker) Evicted() uint64 { return t.evicted }

// MemoryBytes returns the size of the table, which is allocated up front.
func (t *Tracker) MemoryBytes() uint64 { return uint64(len(t.slots)) * 16 }

// Stats returns the duplicates counted so far.
func (t *Tracker) Stats() DedupStats { return t.stats }

// FamilyStats returns the per-family view including the table's memory.
func (t *Tracker) FamilyStats() FamilyStats {
	f := t.stats.Families()
	f.MemoryUsageBytes = t.MemoryBytes()
	return f
}

func (t *Tracker) fingerprint(k Key) [2]uint64 {
	var b [38]byte
	copy(b[:16], k.User[:])
	binary.LittleEndian.PutUint64(b[16:], uint64(k.T1))
	binary.LittleEndian.PutUint64(b[24:], uint64(k.T2))
	binary.LittleEndian.PutUint32(b[32:], k.Part)
	b[36] = byte(k.Kind)
	if k.Wide {
		b[37] = 1
	}
	// The top byte is left for the generation tag; the low bit is set so a
	// used slot is never all zero.
	return [2]uint64{maphash.Bytes(t.seeds[0], b[:]), maphash.Bytes(t.seeds[1], b[:])<<8>>8 | 1}
}

func (t *Tracker) insert(fp [2]uint64) {
	if t.inGen == t.genSize {
		t.nextGeneration()
	}
	fp[1] |= uint64(t.gen) << tagShift
	t.place(fp)
	t.n++
	t.inGen++
}

func (t *Tracker) place(fp [2]uint64) {
	i := fp[0] & t.mask
	for t.slots[i][1] != 0 {
		i = (i + 1) & t.mask
	}
	t.slots[i] = fp
}

func (t *Tracker) nextGeneration() {
	t.gen++
	t.inGen = 0
	if t.gen-t.oldest >= trackerGens {
		t.evict(t.oldest)
		t.oldest++
	}
}

// evict deletes every key of generation tag, then re-places the survivors,
// walking once around the table from an empty slot, so that no probe chain
// is broken by the holes.
func (t *Tracker) evict(tag uint8) {
	start := -1
	for i, s := range t.slots {
		if s[1] != 0 && uint8(s[1]>>tagShift) == tag {
			t.slots[i] = [2]uint64{}
			t.n--
			t.evicted++
		}
		if t.slots[i][1] == 0 && start < 0 {
			start = i
		}
	}
	for j := 1; j <= len(t.slots); j++ {
		i := (uint64(start) + uint64(j)) & t.mask
		if s := t.slots[i]; s[1] != 0 {
			t.slots[i] = [2]uint64{}
			t.place(s)
		}
	}
}
