package monitor

import (
	"testing"
	"time"
)

// TestMemoryMatch: the in-memory sampler splits and matches as
// hmperf.sample_writes() does, one table's partition between two reads.
func TestMemoryMatch(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		name      string
		prev, cur leafCounters
		pending   *ownPending
		want      TableSample
		left      *ownPending // what stays pending; nil when nothing
	}{
		{name: "the service's rows", prev: leafCounters{ins: 100}, cur: leafCounters{ins: 600},
			want: TableSample{Inserted: 500, Rows: 500}},
		{name: "rolled back apart", prev: leafCounters{ins: 100, dead: 10}, cur: leafCounters{ins: 600, dead: 210},
			want: TableSample{Inserted: 500, Rows: 300, RolledBack: 200}},
		{name: "counter restarted", prev: leafCounters{ins: 900}, cur: leafCounters{ins: 40},
			want: TableSample{Inserted: 40, Rows: 40}},
		{name: "VACUUM ran: split unknown", prev: leafCounters{ins: 100, dead: 50}, cur: leafCounters{ins: 300, dead: 0, m: 1},
			want: TableSample{Inserted: 200, Rows: 200, RollbackUnknown: 200}},
		{name: "hmperf's committed and rolled-back rows out", prev: leafCounters{}, cur: leafCounters{ins: 1000, dead: 300},
			pending: &ownPending{committed: 400, rolledBack: 300},
			want:    TableSample{Inserted: 1000, Rows: 300, HmperfRows: 400, HmperfRolledBack: 300}},
		{name: "hmperf's rolled back hidden in an unknown split", prev: leafCounters{}, cur: leafCounters{ins: 1000, m: 1},
			pending: &ownPending{committed: 400, rolledBack: 300},
			want:    TableSample{Inserted: 1000, Rows: 300, RollbackUnknown: 700, HmperfRows: 400, HmperfRolledBack: 300}},
		{name: "hmperf's record before its rows: carried", prev: leafCounters{}, cur: leafCounters{ins: 100},
			pending: &ownPending{committed: 400, since: now},
			want:    TableSample{Inserted: 100, HmperfRows: 100}, left: &ownPending{committed: 300, since: now}},
		{name: "carried too long: dropped", prev: leafCounters{}, cur: leafCounters{ins: 100},
			pending: &ownPending{committed: 400, since: now.Add(-pendingFor - time.Second)},
			want:    TableSample{Inserted: 100, HmperfRows: 100}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.prev.root, tc.cur.root = "t", "t"
			m := &MemorySampler{pending: map[string]*ownPending{}}
			if tc.pending != nil {
				m.pending["t"] = tc.pending
			}
			got := m.match(deltas(map[uint32]leafCounters{1: tc.prev}, map[uint32]leafCounters{1: tc.cur}, nil), now)
			tc.want.Table = "t"
			if len(got) != 1 || got[0] != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			if p := m.pending["t"]; (p == nil) != (tc.left == nil) || p != nil && *p != *tc.left {
				t.Errorf("pending after the sample: %+v, want %+v", p, tc.left)
			}
		})
	}
}

// TestMemoryHandover: what a rollout's swap handed over stands in for the
// previous read of a relation that took the live name, and for the last
// read of one it moved out; a relation that appeared without a handover
// counts from zero.
func TestMemoryHandover(t *testing.T) {
	for _, tc := range []struct {
		name      string
		prev, cur map[uint32]leafCounters
		handed    map[uint32]handover
		want      int64
	}{
		{name: "incoming from its handed-over counters",
			prev:   map[uint32]leafCounters{1: {root: "t", ins: 100}},
			cur:    map[uint32]leafCounters{2: {root: "t", ins: 5040}},
			handed: map[uint32]handover{1: {counters: leafCounters{ins: 130}}, 2: {counters: leafCounters{ins: 5000}, incoming: true}},
			want:   30 + 40},
		{name: "a new table without a handover counts from zero",
			prev: map[uint32]leafCounters{1: {root: "t", ins: 100}},
			cur:  map[uint32]leafCounters{1: {root: "t", ins: 100}, 2: {root: "t", ins: 70}},
			want: 70},
		{name: "a table gone without a handover: nothing",
			prev: map[uint32]leafCounters{1: {root: "t", ins: 100}, 2: {root: "t", ins: 5}},
			cur:  map[uint32]leafCounters{1: {root: "t", ins: 110}},
			want: 10},
		{name: "a handover that took the name away is not a previous read",
			prev:   map[uint32]leafCounters{1: {root: "t", ins: 100}},
			cur:    map[uint32]leafCounters{1: {root: "t", ins: 100}, 2: {root: "t", ins: 70}},
			handed: map[uint32]handover{2: {counters: leafCounters{ins: 60}}},
			want:   70},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := deltas(tc.prev, tc.cur, tc.handed)
			if n := got["t"]; n == nil && tc.want != 0 || n != nil && n.Inserted != tc.want {
				t.Errorf("got %+v, want %d rows inserted", n, tc.want)
			}
		})
	}
}
