package engine

import (
	"errors"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// Cache is an LRU of validation verdicts with a TTL, safe for concurrent use.
//
// The key is a 128-bit hash of every field of the record (exact bits:
// floats by their IEEE bits, times by instant, strings with their lengths)
// plus the Rules version and the kind, so a changed bound never serves an
// old verdict and no subset of fields can alias (the legacy key used 5 of 39
// nutrition fields). The hash is two maphash sums with independent random
// seeds; with n entries and m lookups the chance that any lookup meets a
// colliding entry is about n·m/2^128, below 10^-20 even for 10^6 entries
// and 10^12 lookups, and the random seeds keep crafted collisions out of
// reach of payload authors.
//
// Expiry is stored in the entry and checked on read against the injected
// clock; there is no background goroutine. An expired entry counts as a
// miss. Time-dependent rules (symptom timestamps against now) can only turn
// an invalid verdict valid as time passes, so a cached verdict errs on the
// side of rejecting, for at most the TTL.
type Cache struct {
	lru    *lru.Cache[cacheKey, cacheEntry]
	size   int
	ttl    time.Duration
	now    func() time.Time
	seeds  [2]maphash.Seed
	hits   atomic.Uint64
	misses atomic.Uint64
	bufs   sync.Pool
}

type cacheKey struct {
	h1, h2  uint64
	version uint64
}

type cacheEntry struct {
	expires int64 // unix nanos
	viol    []Violation
}

// CacheStats is a snapshot of a Cache's counters.
type CacheStats struct {
	Hits, Misses      uint64
	Entries, Capacity int
}

// HitRate returns hits/(hits+misses), or 0 before any lookup.
func (s CacheStats) HitRate() float64 {
	if s.Hits+s.Misses == 0 {
		return 0
	}
	return float64(s.Hits) / float64(s.Hits+s.Misses)
}

// NewCache returns a cache of at most size entries that expire ttl after
// they are stored. now is the clock (time.Now in production).
func NewCache(size int, ttl time.Duration, now func() time.Time) (*Cache, error) {
	if ttl <= 0 {
		return nil, errors.New("validation cache: ttl must be positive")
	}
	if now == nil {
		return nil, errors.New("validation cache: nil clock")
	}
	l, err := lru.New[cacheKey, cacheEntry](size)
	if err != nil {
		return nil, err
	}
	c := &Cache{lru: l, size: size, ttl: ttl, now: now, seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}}
	c.bufs.New = func() any { b := make([]byte, 0, 512); return &b }
	return c, nil
}

// Validate returns rs.Validate(r, dst), from the cache when a live entry
// exists.
func (c *Cache) Validate(rs *Rules, r Record, dst []Violation) []Violation {
	key := c.key(rs, r)
	now := c.now().UnixNano()
	if e, ok := c.lru.Get(key); ok && now < e.expires {
		c.hits.Add(1)
		return append(dst, e.viol...)
	}
	c.misses.Add(1)
	n := len(dst)
	dst = rs.Validate(r, dst)
	var viol []Violation
	if len(dst) > n {
		viol = append(viol, dst[n:]...) // own copy: dst belongs to the caller
	}
	c.lru.Add(key, cacheEntry{expires: now + int64(c.ttl), viol: viol})
	return dst
}

func (c *Cache) key(rs *Rules, r Record) cacheKey {
	bp := c.bufs.Get().(*[]byte)
	b := r.appendBits((*bp)[:0])
	k := cacheKey{maphash.Bytes(c.seeds[0], b), maphash.Bytes(c.seeds[1], b), rs.Version()}
	*bp = b
	c.bufs.Put(bp)
	return k
}

// Stats returns the hit and miss counters and the size.
func (c *Cache) Stats() CacheStats {
	return CacheStats{Hits: c.hits.Load(), Misses: c.misses.Load(), Entries: c.lru.Len(), Capacity: c.size}
}

// HitRate returns the hit rate so far.
func (c *Cache) HitRate() float64 { return c.Stats().HitRate() }

// Purge drops every entry and keeps the counters.
func (c *Cache) Purge() { c.lru.Purge() }

// CacheEnabledByDefault reports whether a Validator uses the cache for kind
// k when given one. It is false for every kind, because the cache lost for
// every kind when measured:
//
//	go test ./engine -run '^$' -bench 'BenchmarkValidate|BenchmarkCacheAllHits' -cpu 1 -benchtime 200000x
//
// ns/op on one shared core (2 vCPU VM, Go 1.26), uncached vs cached, at the
// generator's default 5% duplicate rate (hit rate 5.0–5.2%):
//
//	heart_rate       61 vs 590     blood_pressure   40 vs 540
//	sleep           180 vs 952     workout         134 vs 843
//	activity         96 vs 728     nutrition       170 vs 891
//	symptom         122 vs 709
//
// Even at a 99.5% hit rate (1,000 nutrition records repeated) a lookup
// costs 424 ns against 120–170 ns to validate: hashing every field of the
// record (the only safe key) and the LRU's locking and list upkeep cost
// more than the range checks they would save. Uncached validation does not
// allocate; a cache miss allocates an LRU entry.
//
// On the traffic the report's "80-95% hit rate, 50-70% faster" is about,
// uploads that re-send overlapping windows (Resender), it loses too:
//
//	hmperf bench --claim validation-cache --resend-share S --reps 6
//
// gave hit rates equal to the re-sent share (49.8%, 79.6%, 94.5% at S =
// 0.5, 0.8, 0.95) and the cached path 422%, 179% and 65% slower per record
// than validation alone (95% intervals wholly below zero). So the default
// stays off for every kind, on that traffic as on generated samples.
func CacheEnabledByDefault(k Kind) bool { return false }
