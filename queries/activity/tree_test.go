package activity

import (
	"slices"
	"testing"
)

func TestTree(t *testing.T) {
	tests := []struct {
		name     string
		sessions []Session
		roots    []Root
		holdsUp  map[int]int
	}{
		{"nobody waits", []Session{{PID: 1}, {PID: 2}}, []Root{}, map[int]int{1: 0, 2: 0}},
		{"chain", []Session{{PID: 1}, {PID: 2, BlockedBy: []int{1}}, {PID: 3, BlockedBy: []int{2}}},
			[]Root{{1, 2}}, map[int]int{1: 2, 2: 1, 3: 0}},
		{"third behind both", []Session{{PID: 1}, {PID: 2, BlockedBy: []int{1}}, {PID: 3, BlockedBy: []int{1, 2}}},
			[]Root{{1, 2}}, map[int]int{1: 2, 2: 1, 3: 0}},
		{"two roots", []Session{{PID: 1}, {PID: 5}, {PID: 2, BlockedBy: []int{1, 5}}, {PID: 3, BlockedBy: []int{5}}},
			[]Root{{5, 2}, {1, 1}}, map[int]int{1: 1, 5: 2, 2: 0, 3: 0}},
		{"blocker not listed (prepared transaction)", []Session{{PID: 2, BlockedBy: []int{0}}},
			[]Root{{0, 1}}, map[int]int{2: 0}},
		{"deadlock cycle", []Session{{PID: 1, BlockedBy: []int{2}}, {PID: 2, BlockedBy: []int{1}}},
			[]Root{}, map[int]int{1: 1, 2: 1}},
	}
	for _, tc := range tests {
		got := Tree(tc.sessions)
		if !slices.Equal(got, tc.roots) {
			t.Errorf("%s: roots %v, want %v", tc.name, got, tc.roots)
		}
		for _, s := range tc.sessions {
			if s.HoldsUp != tc.holdsUp[s.PID] {
				t.Errorf("%s: pid %d holds up %d, want %d", tc.name, s.PID, s.HoldsUp, tc.holdsUp[s.PID])
			}
		}
	}
}

func TestFirstLine(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"\n  \n  SELECT a,\n b FROM t", "SELECT a,"},
		{"ALTER ROLE x PASSWORD 'sec''ret'", "ALTER ROLE x PASSWORD '***'"},
		{"create role y login password 'abc' valid until 'infinity'", "create role y login password '***' valid until 'infinity'"},
		{"", ""},
	}
	for _, tc := range tests {
		if got := FirstLine(tc.in); got != tc.want {
			t.Errorf("FirstLine(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
