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
