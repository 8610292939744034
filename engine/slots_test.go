package engine

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"
)

// TestSlotsNameTheirColumns writes a probe value through every named slot
// of every kind and checks, in the record's own AppendValues, that exactly
// the column the slot names changed, to the probe, and that the slot reads
// it back: a record, its rules and its table agree on every position.
func TestSlotsNameTheirColumns(t *testing.T) {
	const num, text = 12345.0, "slot-probe"
	for _, k := range Kinds() {
		names := slotsOf(k)
		if len(names.nums) == 0 || len(names.texts) == 0 || len(names.times) == 0 {
			t.Fatalf("%s: slots not named: %+v", k.Table(), names)
		}
		for s, col := range names.nums {
			got := probe(t, k, col, func(r Record) { r.setNum(s, num) })
			var buf [8]float64
			rec := Baseline(k, testUser, testAt).Clone()
			rec.setNum(s, num)
			nums, mask := rec.nums(&buf)
			if fmt.Sprint(got) != fmt.Sprint(num) || nums[s] != num || mask&(1<<s) == 0 {
				t.Errorf("%s number slot %d (%s): column holds %v, slot reads %v (present %v), want %v",
					k.Table(), s, col, got, nums[s], mask&(1<<s) != 0, num)
			}
		}
		for s, col := range names.texts {
			var back string
			got := probe(t, k, col, func(r Record) { r.setText(s, text); back = r.text(s) })
			if got != text || back != text {
				t.Errorf("%s text slot %d (%s): column holds %v, slot reads %q, want %q", k.Table(), s, col, got, back, text)
			}
		}
		for s, col := range names.times {
			at := testAt.Add(-17 * time.Minute)
			var back time.Time
			got := probe(t, k, col, func(r Record) { r.setWhen(s, at); back = r.when(s) })
			if g, ok := got.(time.Time); !ok || !g.Equal(at) || !back.Equal(at) {
				t.Errorf("%s time slot %d (%s): column holds %v, slot reads %v, want %v", k.Table(), s, col, got, back, at)
			}
		}
	}
}

// probe applies set to a copy of kind k's baseline record and returns the
// value of column col afterwards, failing when any other column changed
// or col is not a column of the table.
func probe(t *testing.T, k Kind, col string, set func(Record)) any {
	t.Helper()
	base := Baseline(k, testUser, testAt)
	r := base.Clone()
	set(r)
	i := slices.Index(r.Columns(), col)
	if i < 0 {
		t.Fatalf("%s has no column %s", k.Table(), col)
	}
	before, after := base.AppendValues(nil), r.AppendValues(nil)
	for j := range after {
		if j != i && !reflect.DeepEqual(before[j], after[j]) {
			t.Errorf("%s: writing the slot of %s changed %s too (%v to %v)", k.Table(), col, r.Columns()[j], before[j], after[j])
		}
	}
	return after[i]
}

// TestRuleFieldsAreTheirColumns: every range rule checks the column its
// field names, with that column's CHECK bounds.
func TestRuleFieldsAreTheirColumns(t *testing.T) {
	rs := DefaultRules()
	for _, k := range Kinds() {
		for _, r := range rs.For(k) {
			if r.Kind != RuleRange {
				continue
			}
			c := column(k, r.Field)
			if r.DBLo != c.Lo || r.DBHi != c.Hi || r.slot >= len(slotsOf(k).nums) || slotsOf(k).nums[r.slot] != r.Field {
				t.Errorf("%s rule on %s (slot %d): bounds [%g, %g], column's [%g, %g]", k.Table(), r.Field, r.slot, r.DBLo, r.DBHi, c.Lo, c.Hi)
			}
		}
	}
}
