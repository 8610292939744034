package fleet

import (
	"testing"
	"time"
)

func TestParseLSN(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"0/0", 0, true},
		{"16/B374D848", 0x16<<32 | 0xB374D848, true},
		{"FFFFFFFF/FFFFFFFF", 1<<64 - 1, true},
		{"", 0, false},
		{"16", 0, false},
		{"1/G", 0, false},
		{"100000000/0", 0, false},
	}
	for _, tc := range tests {
		if got, ok := ParseLSN(tc.in); got != tc.want || ok != tc.ok {
			t.Errorf("ParseLSN(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestRate(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	reset := at.Add(-time.Hour)
	later := at.Add(-time.Minute)
	read := func(secs float64, xacts int64, resetAt *time.Time) Stats {
		return Stats{At: at.Add(time.Duration(secs * float64(time.Second))), Xacts: xacts, StatsReset: resetAt}
	}
	tests := []struct {
		name      string
		prev, cur Stats
		want      *float64
	}{
		{"first read", Stats{}, read(2, 100, nil), nil},
		{"steady", read(0, 100, &reset), read(2, 300, &reset), ptr(100)},
		{"counter went down", read(0, 300, nil), read(2, 100, nil), nil},
		{"stats reset between", read(0, 100, &reset), read(2, 300, &later), nil},
		{"no time between", read(2, 100, nil), read(2, 300, nil), nil},
		{"idle", read(0, 100, nil), read(4, 100, nil), ptr(0)},
	}
	for _, tc := range tests {
		got := Rate(tc.prev, tc.cur, TPS)
		if (got == nil) != (tc.want == nil) || got != nil && *got != *tc.want {
			t.Errorf("%s: Rate = %v, want %v", tc.name, deref(got), deref(tc.want))
		}
	}
	if r := Rate(read(0, 1, nil), read(1, 2, nil), InsertRate); r != nil {
		t.Errorf("inserts of a replica (nil counters) = %v, want unknown", *r)
	}
}

func TestReconcile(t *testing.T) {
	own := 7.0
	tests := []struct {
		name  string
		stats []Stats
		read  []bool
		want  []*float64 // LagBytes of each replica after, nil for the primary
	}{
		{"behind the primary", []Stats{{Role: Primary, WAL: "0/3000"}, {Role: Replica, WAL: "0/1000", LagBytes: &own}},
			[]bool{true, true}, []*float64{nil, ptr(0x2000)}},
		{"past the primary's older reading", []Stats{{Role: Primary, WAL: "0/1000"}, {Role: Replica, WAL: "0/1800", LagBytes: &own}},
			[]bool{true, true}, []*float64{nil, ptr(0)}},
		{"across the 4 GB boundary", []Stats{{Role: Primary, WAL: "1/10"}, {Role: Replica, WAL: "0/FFFFFFF0", LagBytes: &own}},
			[]bool{true, true}, []*float64{nil, ptr(0x20)}},
		{"primary not read: the replica's own figure", []Stats{{Role: Primary, WAL: "0/3000"}, {Role: Replica, WAL: "0/1000", LagBytes: &own}},
			[]bool{false, true}, []*float64{nil, &own}},
		{"two primaries: not told", []Stats{{Role: Primary, WAL: "0/3000"}, {Role: Primary, WAL: "0/9000"}, {Role: Replica, WAL: "0/1000", LagBytes: &own}},
			[]bool{true, true, true}, []*float64{nil, nil, &own}},
	}
	for _, tc := range tests {
		Reconcile(tc.stats, tc.read)
		for i, s := range tc.stats {
			if s.Role != Replica {
				continue
			}
			if s.LagBytes == nil || *s.LagBytes != *tc.want[i] {
				t.Errorf("%s: replica %d lags %v bytes, want %v", tc.name, i, deref(s.LagBytes), *tc.want[i])
			}
		}
	}
}

func ptr(v float64) *float64 { return &v }

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
