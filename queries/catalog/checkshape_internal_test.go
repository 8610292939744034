package catalog

import (
	"math"
	"slices"
	"testing"

	"hmperf/engine"
)

// TestParseCheck reads the definitions as pg_get_constraintdef prints them
// on the service's and hmperf's tables.
func TestParseCheck(t *testing.T) {
	inf := math.Inf(1)
	tests := []struct {
		def    string
		kind   shapeKind
		column string
		bound  engine.Bound
		values []string
		other  string
	}{
		{"CHECK ((heart_rate >= 15) AND (heart_rate <= 300))", shapeRange, "heart_rate", engine.Bound{Lo: 15, Hi: 300}, nil, ""},
		{"CHECK (((resting_heart_rate IS NULL) OR ((resting_heart_rate >= 15) AND (resting_heart_rate <= 300))))", shapeRange,
			"resting_heart_rate", engine.Bound{Lo: 15, Hi: 300}, nil, ""},
		{"CHECK (((diastolic > 0) AND (diastolic <= 200)))", shapeRange, "diastolic", engine.Bound{Lo: 0, Hi: 200, LoOpen: true}, nil, ""},
		{"CHECK ((distance_meters >= (0)::numeric))", shapeRange, "distance_meters", engine.Bound{Lo: 0, Hi: inf}, nil, ""},
		{"CHECK (((altitude_meters IS NULL) OR ((altitude_meters >= ('-500'::integer)::numeric) AND (altitude_meters <= (9000)::numeric))))",
			shapeRange, "altitude_meters", engine.Bound{Lo: -500, Hi: 9000}, nil, ""},
		{"CHECK (((impact_force_g IS NULL) OR ((impact_force_g >= (0)::numeric) AND (impact_force_g <= 50.0))))", shapeRange,
			"impact_force_g", engine.Bound{Lo: 0, Hi: 50}, nil, ""},
		{"CHECK ((duration_minutes > 0)) NOT VALID", shapeRange, "duration_minutes", engine.Bound{Lo: 0, Hi: inf, LoOpen: true}, nil, ""},
		{"CHECK (((aggregation_period)::text = ANY ((ARRAY['minute'::character varying, 'hourly'::character varying])::text[])))",
			shapeEnum, "aggregation_period", engine.Bound{}, []string{"minute", "hourly"}, ""},
		{"CHECK (((context IS NULL) OR (context = ANY (ARRAY['resting'::text, 'it''s'::text]))))", shapeEnum, "context", engine.Bound{},
			[]string{"resting", "it's"}, ""},
		{"CHECK ((ended_at > started_at))", shapeCompare, "ended_at", engine.Bound{}, nil, "started_at"},
		{"CHECK ((duration_minutes >= (((COALESCE(deep_sleep_minutes, 0) + COALESCE(rem_sleep_minutes, 0)) + COALESCE(light_sleep_minutes, 0)) + COALESCE(awake_minutes, 0))))",
			shapeOther, "", engine.Bound{}, nil, ""},
		{"CHECK (((onset_at IS NULL) OR (onset_at <= now())))", shapeOther, "", engine.Bound{}, nil, ""},
		{"CHECK ((a > 0) OR (b > 0))", shapeOther, "", engine.Bound{}, nil, ""},
		{"CHECK (((a > 0) AND (b < 5)))", shapeOther, "", engine.Bound{}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.def, func(t *testing.T) {
			s := parseCheck(tt.def)
			if s.kind != tt.kind || s.column != tt.column || s.kind == shapeRange && s.bound != tt.bound ||
				!slices.Equal(s.values, tt.values) || s.other != tt.other {
				t.Errorf("got %+v", s)
			}
		})
	}
}

func TestComparison(t *testing.T) {
	tests := []struct{ left, op, right, want string }{
		{"ended_at", ">", "started_at", "ended_at > started_at"},
		{"started_at", "<", "ended_at", "ended_at > started_at"},
		{"diastolic", "<=", "systolic", "systolic >= diastolic"},
		{"a", "=", "b", "a = b"},
	}
	for _, tt := range tests {
		if got := comparison(tt.left, tt.op, tt.right); got != tt.want {
			t.Errorf("comparison(%s %s %s) = %q, want %q", tt.left, tt.op, tt.right, got, tt.want)
		}
	}
}
