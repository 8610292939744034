package rollout

import (
	"slices"
	"testing"
)

func TestParseList(t *testing.T) {
	for _, c := range []struct {
		name, def, column string
		want              []string
	}{
		{"varchar cast", `CHECK (((symptom_type)::text = ANY ((ARRAY['fever'::character varying, 'it''s'::character varying])::text[])))`, "symptom_type", []string{"fever", "it's"}},
		{"restored dump", `CHECK (((severity)::text = ANY (ARRAY[('not_present'::character varying)::text, ('mild'::character varying)::text])))`, "severity", []string{"not_present", "mild"}},
		{"not valid", `CHECK ((severity = ANY (ARRAY['mild'::text, 'severe'::text]))) NOT VALID`, "severity", []string{"mild", "severe"}},
		{"text", `CHECK ((severity = ANY (ARRAY['mild'::text, 'severe'::text])))`, "severity", []string{"mild", "severe"}},
		{"other column", `CHECK ((severity = ANY (ARRAY['mild'::text])))`, "symptom_type", nil},
		{"a range", `CHECK (((duration_minutes >= 0) AND (duration_minutes <= 10080)))`, "duration_minutes", nil},
		{"a list with NULL allowed", `CHECK (((x IS NULL) OR (x = ANY (ARRAY['a'::text]))))`, "x", nil},
		{"numbers", `CHECK ((n = ANY (ARRAY[1, 2])))`, "n", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := ParseList(c.def, c.column)
			if ok != (c.want != nil) || !slices.Equal(got, c.want) {
				t.Errorf("ParseList(%q) = %q, %v; want %q", c.def, got, ok, c.want)
			}
		})
	}
}

func TestParseRange(t *testing.T) {
	for _, c := range []struct {
		name, def, column string
		lo, hi            string
		ok                bool
	}{
		{"numeric with NULL allowed", `CHECK (((water_ml IS NULL) OR ((water_ml >= (0)::numeric) AND (water_ml <= (20000)::numeric))))`, "water_ml", "0", "20000", true},
		{"integer", `CHECK (((step_count IS NULL) OR ((step_count >= 0) AND (step_count <= 200000))))`, "step_count", "0", "200000", true},
		{"between", `CHECK (((n >= 1) AND (n <= 10)))`, "n", "1", "10", true},
		{"decimal bound", `CHECK (((x >= 0.5) AND (x <= 99.75))) NOT VALID`, "x", "0.5", "99.75", true},
		{"negative bound", `CHECK (((x >= ('-1'::integer)::numeric) AND (x <= (1)::numeric)))`, "x", "-1", "1", true},
		{"other column", `CHECK (((n >= 1) AND (n <= 10)))`, "m", "", "", false},
		{"two columns", `CHECK (((a >= 1) AND (b <= 10)))`, "a", "", "", false},
		{"NULL test of another column", `CHECK (((b IS NULL) OR ((a >= 1) AND (a <= 10))))`, "a", "", "", false},
		{"a list", `CHECK ((severity = ANY (ARRAY['mild'::text])))`, "severity", "", "", false},
		{"one side", `CHECK ((n >= 0))`, "n", "", "", false},
		{"more after", `CHECK (((n >= 1) AND (n <= 10) AND (n <> 5)))`, "n", "", "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			lo, hi, ok := ParseRange(c.def, c.column)
			if ok != c.ok || lo != c.lo || hi != c.hi {
				t.Errorf("ParseRange(%q) = %q, %q, %v; want %q, %q, %v", c.def, lo, hi, ok, c.lo, c.hi, c.ok)
			}
		})
	}
}
