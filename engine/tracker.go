package engine

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"time"
)

// trackerGens is the number of generations a Tracker keeps; when full it
// forgets the oldest, a quarter of its keys.
const trackerGens = 4

const tagShift = 56

// Tracker remembers dedup keys across batches in bounded memory.
//
// Each key is stored as a 128-bit fingerprint (two multiply-mix lanes with
// independent random secrets, 9 bits of which are replaced by a generation
// tag and a used-slot bit, so 119 bits identify the key) in an open-addressing table with
// linear probing, sized up front for maxKeys at a load of at most 3/4:
// 16 bytes a slot, 21–43 bytes a key (BenchmarkDedup1M measured 33.6 B and
// 77–84 ns per key for one million keys through SeenMany). Two
// different keys share a fingerprint with probability 2^-119; over n
// tracked keys the chance of any false duplicate is about n²/2^120, below
// 10^-23 at a million keys. The secrets are random per Tracker, so payload
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
	secret  [10]uint64
	stats   DedupStats
	evicted uint64
	sink    uint64 // keeps the touch loads of SeenMany alive
}

// NewTracker returns a tracker that holds at most maxKeys keys (minimum 16).
func NewTracker(maxKeys int) *Tracker {
	maxKeys = max(maxKeys, 16)
	size := 1 << bits.Len(uint(maxKeys+maxKeys/3))
	t := &Tracker{
		slots:   make([][2]uint64, size),
		mask:    uint64(size - 1),
		max:     maxKeys,
		genSize: (maxKeys + trackerGens - 1) / trackerGens,
	}
	for i := range t.secret {
		t.secret[i] = rand.Uint64()
	}
	return t
}

// Seen reports whether k was seen before (and counts it as a duplicate of
// its kind); otherwise it remembers k and returns false.
func (t *Tracker) Seen(k Key) bool { return t.seenFP(t.fingerprint(k), k.Kind) }

// chunk is how many keys SeenMany fingerprints and touches ahead of
// probing: the touches are independent loads, so their cache misses
// overlap instead of being paid one after the other.
const chunk = 64

// SeenMany is Seen for every key of keys, writing the answers to dup
// (len(dup) >= len(keys)), in order: a key repeated within keys is a
// duplicate from its second occurrence.
func (t *Tracker) SeenMany(keys []Key, dup []bool) {
	var fps [chunk][2]uint64
	for len(keys) > 0 {
		n := min(len(keys), chunk)
		for i, k := range keys[:n] {
			fps[i] = t.fingerprint(k)
		}
		// A tight loop of loads only, so that dozens of misses are in
		// flight at once (hashing between them would fill the CPU's
		// reorder window and serialise them).
		var touch uint64
		for i := range n {
			touch += t.slots[fps[i][0]&t.mask][1]
		}
		t.sink += touch
		for i, k := range keys[:n] {
			dup[i] = t.seenFP(fps[i], k.Kind)
		}
		keys, dup = keys[n:], dup[n:]
	}
}

func (t *Tracker) seenFP(fp [2]uint64, kind Kind) bool {
	for i := fp[0] & t.mask; ; i = (i + 1) & t.mask {
		s := t.slots[i]
		if s[1] == 0 {
			break
		}
		if s[0] == fp[0] && s[1]<<8 == fp[1]<<8 {
			t.stats.ByKind[kind]++
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
	var keys [chunk]Key
	var dup [chunk]bool
	kept := batch[:0]
	for off := 0; off < len(batch); off += chunk {
		part := batch[off:min(off+chunk, len(batch))]
		for i, r := range part {
			keys[i] = r.DedupKey()
		}
		t.SeenMany(keys[:len(part)], dup[:])
		for i, r := range part {
			if !dup[i] {
				kept = append(kept, r)
			}
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

// fingerprint mixes the key's five words with two independent sets of
// random per-tracker secrets through 64×64→128-bit multiplies (the
// folded-multiply construction of wyhash), giving two 64-bit lanes that
// behave as independent random values for distinct keys. A lane loses
// information only when a word equals its secret exactly (a zero factor),
// a 2^-64 event per word.
func (t *Tracker) fingerprint(k Key) [2]uint64 {
	a := binary.LittleEndian.Uint64(k.User[:8])
	b := binary.LittleEndian.Uint64(k.User[8:])
	c, d := uint64(k.T1), uint64(k.T2)
	e := uint64(k.Part) | uint64(k.Kind)<<32
	if k.Wide {
		e |= 1 << 40
	}
	s := &t.secret
	h0 := mum(mum(a^s[0], b^s[1])^mum(c^s[2], d^s[3]), e^s[4])
	h1 := mum(mum(a^s[5], b^s[6])^mum(c^s[7], d^s[8]), e^s[9])
	// The top byte is left for the generation tag; the low bit is set so a
	// used slot is never all zero.
	return [2]uint64{h0, h1<<8>>8 | 1}
}

// mum folds the 128-bit product of x and y into 64 bits.
func mum(x, y uint64) uint64 {
	hi, lo := bits.Mul64(x, y)
	return hi ^ lo
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
