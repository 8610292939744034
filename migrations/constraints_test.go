package migrations_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"

	"hmperf/queries/pgtest"
)

// A rule is one constrained column of an original table, as the service's
// dump declares it. The probes built from it: lo and hi accepted, one
// step outside each rejected (ints ±1, NUMERIC(p,2) ±0.01, NUMERIC(p,3)
// ±0.001), NULL accepted when the column is nullable; for lists every allowed
// value accepted and an unknown one rejected.
type rule struct {
	col        string
	scale      int    // 0 for integers
	lo, hi     string // hi "" = no upper bound
	values     []string
	nullable   bool
	constraint string            // the original's constraint name
	with       map[string]string // other columns the probes must set
}

// A probe is one INSERT: base row plus set, and the original's verdict.
type probe struct {
	name       string
	set        map[string]string // column -> SQL expression
	accept     bool
	constraint string // expected constraint name when the original rejects
}

func num(col string, scale int, lo, hi, constraint string) rule {
	return rule{col: col, scale: scale, lo: lo, hi: hi, nullable: true, constraint: constraint}
}

func list(col string, nullable bool, constraint string, values ...string) rule {
	return rule{col: col, values: values, nullable: nullable, constraint: constraint}
}

// step returns v ± one unit of the column's last decimal place.
func step(v string, scale int, sign int) string {
	var f float64
	fmt.Sscan(v, &f)
	unit := 1.0
	for i := 0; i < scale; i++ {
		unit /= 10
	}
	return fmt.Sprintf("%.*f", scale, f+float64(sign)*unit)
}

func lit(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func (r rule) probes() []probe {
	var ps []probe
	add := func(name, expr string, accept bool) {
		set := map[string]string{r.col: expr}
		for k, v := range r.with {
			set[k] = v
		}
		ps = append(ps, probe{name: r.col + "=" + name, set: set, accept: accept, constraint: r.constraint})
	}
	if r.values != nil {
		for _, v := range r.values {
			add(v, lit(v), true)
		}
		add("not_a_value", lit("not_a_value"), false)
	} else {
		add(r.lo, lit(r.lo), true)
		add(step(r.lo, r.scale, -1), lit(step(r.lo, r.scale, -1)), false)
		if r.hi != "" {
			add(r.hi, lit(r.hi), true)
			add(step(r.hi, r.scale, +1), lit(step(r.hi, r.scale, +1)), false)
		}
	}
	if r.nullable {
		add("NULL", "NULL", true)
	}
	return ps
}

// A family is an original table, with its optimized and unconstrained twins
// when it has them.
type family struct {
	original      string
	optimized     string
	unconstrained string
	base          map[string]string
	rules         []rule
	extra         []probe
	// optimizedDiffs lists every probe on which the optimized table's verdict
	// differs from the original's (value: the optimized table's verdict).
	// The unconstrained twin accepts every probe: none of them breaks
	// anything but a CHECK, a domain, an enum or the validation trigger.
	optimizedDiffs map[string]bool
}

func (f family) allProbes() []probe {
	var ps []probe
	for _, r := range f.rules {
		ps = append(ps, r.probes()...)
	}
	return append(ps, f.extra...)
}

// nutrient is one of the 39 nutrition columns with the domain
// 0020 gives it in nutrition_metrics_optimized.
type nutrient struct {
	col, short string
	scale      int
	hi         string
	domain     string
}

var nutrients = []nutrient{
	{"water_ml", "water", 2, "20000", "energy_volume_numeric"},
	{"energy_consumed_kcal", "energy", 2, "20000", "energy_volume_numeric"},
	{"carbohydrates_g", "carbs", 2, "3000", "macronutrient_g"},
	{"protein_g", "protein", 2, "1000", "macronutrient_g"},
	{"fat_total_g", "fat_total", 2, "1000", "macronutrient_g"},
	{"fat_saturated_g", "fat_saturated", 2, "500", "macronutrient_g"},
	{"fat_monounsaturated_g", "fat_monounsaturated", 2, "500", "macronutrient_g"},
	{"fat_polyunsaturated_g", "fat_polyunsaturated", 2, "500", "macronutrient_g"},
	{"cholesterol_mg", "cholesterol", 2, "5000", "positive_small_numeric"},
	{"fiber_g", "fiber", 2, "200", "macronutrient_g"},
	{"sugar_g", "sugar", 2, "2000", "macronutrient_g"},
	{"sodium_mg", "sodium", 2, "50000", "mineral_mg"},
	{"vitamin_a_mcg", "vitamin_a", 2, "10000", "vitamin_mcg"},
	{"vitamin_d_mcg", "vitamin_d", 2, "1000", "vitamin_mcg"},
	{"vitamin_e_mg", "vitamin_e", 2, "2000", "positive_small_numeric"},
	{"vitamin_k_mcg", "vitamin_k", 2, "5000", "vitamin_mcg"},
	{"vitamin_c_mg", "vitamin_c", 2, "5000", "positive_small_numeric"},
	{"thiamin_mg", "thiamin", 3, "100", "trace_mineral_mg"},
	{"riboflavin_mg", "riboflavin", 3, "100", "trace_mineral_mg"},
	{"niacin_mg", "niacin", 2, "1000", "positive_small_numeric"},
	{"pantothenic_acid_mg", "pantothenic_acid", 3, "100", "trace_mineral_mg"},
	{"vitamin_b6_mg", "vitamin_b6", 3, "500", "trace_mineral_mg"},
	{"biotin_mcg", "biotin", 2, "10000", "vitamin_mcg"},
	{"folate_mcg", "folate", 2, "5000", "vitamin_mcg"},
	{"vitamin_b12_mcg", "vitamin_b12", 2, "5000", "vitamin_mcg"},
	{"calcium_mg", "calcium", 2, "10000", "mineral_mg"},
	{"phosphorus_mg", "phosphorus", 2, "10000", "mineral_mg"},
	{"magnesium_mg", "magnesium", 2, "5000", "mineral_mg"},
	{"potassium_mg", "potassium", 2, "20000", "mineral_mg"},
	{"chloride_mg", "chloride", 2, "20000", "mineral_mg"},
	{"iron_mg", "iron", 3, "200", "trace_mineral_mg"},
	{"zinc_mg", "zinc", 3, "200", "trace_mineral_mg"},
	{"copper_mg", "copper", 3, "50", "trace_mineral_mg"},
	{"manganese_mg", "manganese", 3, "50", "trace_mineral_mg"},
	{"iodine_mcg", "iodine", 2, "5000", "vitamin_mcg"},
	{"selenium_mcg", "selenium", 2, "2000", "vitamin_mcg"},
	{"chromium_mcg", "chromium", 2, "2000", "vitamin_mcg"},
	{"molybdenum_mcg", "molybdenum", 2, "5000", "vitamin_mcg"},
	{"caffeine_mg", "caffeine", 2, "2000", "positive_small_numeric"},
}

// domainLooser names every nutrition column whose DOMAIN (on its own) accepts
// a wider range than the original CHECK, and the domain's ceiling. Intended:
// one domain has one range, the 39 columns have 13 upper bounds; validate_nutrition_metrics_optimized() enforces the original upper
// bound, so the TABLE's verdict does not differ (see optimizedDiffs, empty).
// Columns not listed here are exact by their domain alone.
var domainLooser = map[string]string{
	"protein_g":             "3000",
	"fat_total_g":           "3000",
	"fat_saturated_g":       "3000",
	"fat_monounsaturated_g": "3000",
	"fat_polyunsaturated_g": "3000",
	"fiber_g":               "3000",
	"sugar_g":               "3000",
	"vitamin_d_mcg":         "10000",
	"vitamin_e_mg":          "5000",
	"vitamin_k_mcg":         "10000",
	"thiamin_mg":            "500",
	"riboflavin_mg":         "500",
	"niacin_mg":             "5000",
	"pantothenic_acid_mg":   "500",
	"folate_mcg":            "10000",
	"vitamin_b12_mcg":       "10000",
	"calcium_mg":            "50000",
	"phosphorus_mg":         "50000",
	"magnesium_mg":          "50000",
	"potassium_mg":          "50000",
	"chloride_mg":           "50000",
	"iron_mg":               "500",
	"zinc_mg":               "500",
	"copper_mg":             "500",
	"manganese_mg":          "500",
	"iodine_mcg":            "10000",
	"selenium_mcg":          "10000",
	"chromium_mcg":          "10000",
	"molybdenum_mcg":        "10000",
	"caffeine_mg":           "5000",
}

// The 68 distinct values of the original symptom_type CHECK.
var symptomTypes = []string{
	"fever", "fatigue", "weakness", "night_sweats", "chills", "malaise", "appetite_loss", "weight_loss", "weight_gain",
	"headache", "dizziness", "lightheadedness", "confusion", "memory_issues", "concentration_difficulty", "mood_changes", "anxiety", "depression",
	"cough", "shortness_of_breath", "chest_tightness_or_pain", "wheezing", "runny_nose", "sinus_congestion", "sneezing", "sore_throat",
	"nausea", "vomiting", "abdominal_cramps", "bloating", "diarrhea", "constipation", "heartburn", "acid_reflux", "stomach_pain", "gas", "indigestion",
	"body_and_muscle_aches", "joint_pain", "back_pain", "neck_pain", "muscle_cramps", "stiffness", "swelling",
	"dry_skin", "rash", "itching", "acne", "skin_irritation",
	"pelvic_pain", "vaginal_dryness", "bladder_incontinence", "frequent_urination", "painful_urination",
	"sleep_changes", "insomnia", "excessive_sleepiness", "sleep_disturbances",
	"vision_changes", "hearing_changes", "taste_changes", "smell_changes",
	"hot_flashes", "cold_intolerance", "heat_intolerance", "hair_loss", "tremor", "irregular_heartbeat",
}

func families() []family {
	nut := family{
		original: "nutrition_metrics", optimized: "nutrition_metrics_optimized", unconstrained: "nutrition_metrics_unconstrained",
		base: map[string]string{"recorded_at": "now() - interval '1 hour'"},
		// No difference: the domains give each column a floor of 0 and a
		// ceiling, the trigger the exact upper bound and aggregation_period
		// (NULL allowed, as by the original inline CHECK).
		optimizedDiffs: map[string]bool{},
	}
	for _, n := range nutrients {
		nut.rules = append(nut.rules, num(n.col, n.scale, "0", n.hi, "nutrition_"+n.short+"_check"))
	}
	nut.rules = append(nut.rules, list("aggregation_period", true, "nutrition_metrics_aggregation_period_check", "meal", "daily", "weekly"))

	act := family{
		original: "activity_metrics_v2", optimized: "activity_metrics_v2_optimized", unconstrained: "activity_metrics_v2_unconstrained",
		base: map[string]string{"recorded_at": "now() - interval '1 hour'"},
		// No difference: the trigger checks the same 15 ranges (NULL passes)
		// and aggregation_period stays a CHECK.
		optimizedDiffs: map[string]bool{},
		rules: []rule{
			num("step_count", 0, "0", "200000", "activity_v2_step_count_check"),
			num("flights_climbed", 0, "0", "10000", "activity_v2_flights_climbed_check"),
			num("distance_walking_running_meters", 2, "0", "500000", "activity_v2_distance_walking_running_check"),
			num("distance_cycling_meters", 2, "0", "1000000", "activity_v2_distance_cycling_check"),
			num("distance_swimming_meters", 2, "0", "50000", "activity_v2_distance_swimming_check"),
			num("distance_wheelchair_meters", 2, "0", "500000", "activity_v2_distance_wheelchair_check"),
			num("distance_downhill_snow_sports_meters", 2, "0", "200000", "activity_v2_distance_snow_sports_check"),
			num("push_count", 0, "0", "50000", "activity_v2_push_count_check"),
			num("swimming_stroke_count", 0, "0", "100000", "activity_v2_swimming_stroke_count_check"),
			num("nike_fuel", 2, "0", "50000", "activity_v2_nike_fuel_check"),
			num("active_energy_burned_kcal", 2, "0", "20000", "activity_v2_active_energy_check"),
			num("basal_energy_burned_kcal", 2, "0", "10000", "activity_v2_basal_energy_check"),
			num("exercise_time_minutes", 0, "0", "1440", "activity_v2_exercise_time_check"),
			num("stand_time_minutes", 0, "0", "1440", "activity_v2_stand_time_check"),
			num("move_time_minutes", 0, "0", "1440", "activity_v2_move_time_check"),
			list("aggregation_period", true, "activity_metrics_v2_aggregation_period_check", "minute", "hourly", "daily", "weekly"),
		},
	}

	sym := family{
		original: "symptoms", optimized: "symptoms_optimized", unconstrained: "symptoms_unconstrained",
		base: map[string]string{"recorded_at": "now() - interval '1 hour'", "symptom_type": "'fever'"},
		// No difference in verdict: the enums hold exactly the CHECK's values;
		// only the error differs (22P02 instead of 23514), which the probe
		// runner accepts as a rejection.
		optimizedDiffs: map[string]bool{},
		rules: []rule{
			list("symptom_type", false, "symptoms_symptom_type_check", symptomTypes...),
			list("severity", false, "symptoms_severity_check", "not_present", "mild", "moderate", "severe"),
			num("duration_minutes", 0, "0", "10080", "symptoms_duration_minutes_check"),
		},
		// The time-dependent CHECKs (kept on purpose) and
		// the JSON-array CHECKs (a deviation, see 0014).
		extra: []probe{
			{name: "onset_at=now()-1min", set: map[string]string{"onset_at": "now() - interval '1 minute'"}, accept: true},
			{name: "onset_at=now()+1h", set: map[string]string{"onset_at": "now() + interval '1 hour'"}, constraint: "symptoms_onset_check"},
			{name: "recorded_at=1900-01-01", set: map[string]string{"recorded_at": "'1900-01-01 00:00:00+00'"}, accept: true},
			{name: "recorded_at<1900-01-01", set: map[string]string{"recorded_at": "'1899-12-31 23:59:59.999999+00'"}, constraint: "symptoms_recorded_at_check"},
			{name: "recorded_at=now()+23h", set: map[string]string{"recorded_at": "now() + interval '23 hours'"}, accept: true},
			{name: "recorded_at=now()+25h", set: map[string]string{"recorded_at": "now() + interval '25 hours'"}, constraint: "symptoms_recorded_at_check"},
			{name: "triggers=array", set: map[string]string{"triggers": `'["stress"]'`}, accept: true},
			{name: "triggers=object", set: map[string]string{"triggers": `'{"a": 1}'`}, constraint: "symptoms_triggers_check"},
			{name: "triggers=string", set: map[string]string{"triggers": `'"stress"'`}, constraint: "symptoms_triggers_check"},
			{name: "treatments=array", set: map[string]string{"treatments": `'["rest"]'`}, accept: true},
			{name: "treatments=object", set: map[string]string{"treatments": `'{"a": 1}'`}, constraint: "symptoms_treatments_check"},
			{name: "treatments=json null", set: map[string]string{"treatments": `'null'`}, constraint: "symptoms_treatments_check"},
		},
	}

	hr := family{
		original: "heart_rate_metrics",
		base:     map[string]string{"recorded_at": "now()", "heart_rate": "70"},
		rules: []rule{
			{col: "heart_rate", lo: "15", hi: "300", constraint: "heart_rate_metrics_heart_rate_check"},
			num("resting_heart_rate", 0, "15", "300", "heart_rate_metrics_resting_heart_rate_check"),
			num("heart_rate_variability", 2, "0", "500", "heart_rate_metrics_heart_rate_variability_check"),
			list("context", true, "heart_rate_metrics_context_check", "resting", "exercise", "sleep", "stress", "recovery", "active"),
		},
	}
	bp := family{
		original: "blood_pressure_metrics",
		base:     map[string]string{"recorded_at": "now()", "systolic": "120", "diastolic": "80"},
		rules: []rule{
			{col: "systolic", lo: "50", hi: "250", constraint: "blood_pressure_metrics_systolic_check", with: map[string]string{"diastolic": "30"}},
			{col: "diastolic", lo: "30", hi: "150", constraint: "blood_pressure_metrics_diastolic_check", with: map[string]string{"systolic": "250"}},
			num("pulse", 0, "15", "300", "blood_pressure_metrics_pulse_check"),
		},
		extra: []probe{
			{name: "systolic=diastolic", set: map[string]string{"systolic": "120", "diastolic": "120"}, constraint: "blood_pressure_metrics_systolic_diastolic_check"},
			{name: "systolic=diastolic+1", set: map[string]string{"systolic": "121", "diastolic": "120"}, accept: true},
		},
	}
	sleep := family{
		original: "sleep_metrics",
		base:     map[string]string{"sleep_start": "now() - interval '8 hours'", "sleep_end": "now()"},
		rules: []rule{
			num("duration_minutes", 0, "0", "1440", "sleep_metrics_duration_minutes_check"),
			num("deep_sleep_minutes", 0, "0", "", "sleep_metrics_deep_sleep_minutes_check"),
			num("rem_sleep_minutes", 0, "0", "", "sleep_metrics_rem_sleep_minutes_check"),
			num("light_sleep_minutes", 0, "0", "", "sleep_metrics_light_sleep_minutes_check"),
			num("awake_minutes", 0, "0", "", "sleep_metrics_awake_minutes_check"),
			num("efficiency", 2, "0", "100", "sleep_metrics_efficiency_check"),
		},
		extra: []probe{
			{name: "sleep_end=sleep_start", set: map[string]string{"sleep_start": "'2024-01-01 00:00:00+00'", "sleep_end": "'2024-01-01 00:00:00+00'"}, constraint: "sleep_metrics_sleep_end_check"},
			{name: "sleep_end=sleep_start+1s", set: map[string]string{"sleep_start": "'2024-01-01 00:00:00+00'", "sleep_end": "'2024-01-01 00:00:01+00'"}, accept: true},
		},
	}
	wo := family{
		original: "workouts",
		base:     map[string]string{"workout_type": "'running'", "started_at": "'2024-01-01 00:00:00+00'", "ended_at": "'2024-01-01 01:00:00+00'"},
		rules: []rule{
			num("total_energy_kcal", 2, "0", "20000", "workouts_total_energy_kcal_check"),
			num("distance_meters", 2, "0", "500000", "workouts_distance_meters_check"),
			num("avg_heart_rate", 0, "15", "300", "workouts_avg_heart_rate_check"),
			num("max_heart_rate", 0, "15", "300", "workouts_max_heart_rate_check"),
		},
		extra: []probe{
			{name: "workout_type=''", set: map[string]string{"workout_type": "''"}, constraint: "workouts_workout_type_check"},
			{name: "workout_type='x'", set: map[string]string{"workout_type": "'x'"}, accept: true},
			{name: "ended_at=started_at", set: map[string]string{"ended_at": "'2024-01-01 00:00:00+00'"}, constraint: "workouts_duration_check"},
			{name: "duration=24h", set: map[string]string{"ended_at": "'2024-01-02 00:00:00+00'"}, accept: true},
			{name: "duration=24h+1s", set: map[string]string{"ended_at": "'2024-01-02 00:00:01+00'"}, constraint: "workouts_duration_check"},
		},
	}
	return []family{nut, act, sym, hr, bp, sleep, wo}
}

// verdict is what one INSERT did.
type verdict struct {
	accepted   bool
	code       string
	constraint string
	message    string
}

func tryInsert(t *testing.T, conn *pgx.Conn, table string, row map[string]string) verdict {
	t.Helper()
	cols := make([]string, 0, len(row))
	for c := range row {
		cols = append(cols, c)
	}
	sort.Strings(cols)
	vals := make([]string, len(cols))
	for i, c := range cols {
		vals[i] = row[c]
	}
	sql := fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", table, strings.Join(cols, ", "), strings.Join(vals, ", "))
	ctx := testCtx(t)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, sql); err != nil {
		pe := pgErr(err)
		if pe == nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return verdict{code: pe.Code, constraint: pe.ConstraintName, message: pe.Message}
	}
	return verdict{accepted: true}
}

// TestConstraintBounds inserts a row at each bound of every CHECK of the
// original tables and one just outside it, and the same rows into the
// optimized and unconstrained twins; every verdict must match the
// expectations, and every difference must be listed.
func TestConstraintBounds(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewMigratedDB(t)
	setup := connect(t, dsn)
	var userID string
	if err := setup.QueryRow(testCtx(t), `INSERT INTO users (email) VALUES ('bounds@example.test') RETURNING id::text`).Scan(&userID); err != nil {
		t.Fatal(err)
	}

	for _, f := range families() {
		t.Run(f.original, func(t *testing.T) {
			t.Parallel()
			conn := connect(t, dsn)
			probes := f.allProbes()
			seen := map[string]bool{}
			for _, p := range probes {
				if seen[p.name] {
					t.Fatalf("duplicate probe name %s", p.name)
				}
				seen[p.name] = true
			}
			for name := range f.optimizedDiffs {
				if !seen[name] {
					t.Errorf("optimizedDiffs names unknown probe %s", name)
				}
			}
			for _, p := range probes {
				row := map[string]string{"user_id": lit(userID)}
				for k, v := range f.base {
					row[k] = v
				}
				for k, v := range p.set {
					row[k] = v
				}

				got := tryInsert(t, conn, f.original, row)
				if got.accepted != p.accept {
					t.Errorf("%s %s: accepted = %v, want %v (%s)", f.original, p.name, got.accepted, p.accept, got.message)
				} else if !got.accepted {
					if got.code != pgerrcode.CheckViolation {
						t.Errorf("%s %s: rejected with SQLSTATE %s (%s), want 23514", f.original, p.name, got.code, got.message)
					}
					if p.constraint != "" && got.constraint != p.constraint {
						t.Errorf("%s %s: rejected by %q, want %q", f.original, p.name, got.constraint, p.constraint)
					}
				}

				if f.optimized != "" {
					want := p.accept
					if d, ok := f.optimizedDiffs[p.name]; ok {
						want = d
					}
					got := tryInsert(t, conn, f.optimized, row)
					if got.accepted != want {
						t.Errorf("%s %s: accepted = %v, want %v (original: %v) (%s)", f.optimized, p.name, got.accepted, want, p.accept, got.message)
					} else if !got.accepted && got.code != pgerrcode.CheckViolation && got.code != pgerrcode.InvalidTextRepresentation {
						t.Errorf("%s %s: rejected with SQLSTATE %s (%s), want 23514 or 22P02", f.optimized, p.name, got.code, got.message)
					}
				}
				if f.unconstrained != "" {
					if got := tryInsert(t, conn, f.unconstrained, row); !got.accepted {
						t.Errorf("%s %s: rejected (%s %s), but the floor has no checks", f.unconstrained, p.name, got.code, got.message)
					}
				}
			}
		})
	}
}

// TestNutritionDomainRanges checks each nutrition column's domain on its own:
// it accepts 0 and the original upper bound, rejects -0.01 (-0.001), and
// accepts hi+step exactly for the columns listed in domainLooser, up to the
// listed ceiling.
func TestNutritionDomainRanges(t *testing.T) {
	t.Parallel()
	conn := connect(t, pgtest.NewMigratedDB(t))
	accepts := func(value, domain string) bool {
		t.Helper()
		ctx := testCtx(t)
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		_, err = tx.Exec(ctx, fmt.Sprintf("SELECT %s::%s", lit(value), domain))
		if err != nil && (pgErr(err) == nil || pgErr(err).Code != pgerrcode.CheckViolation) {
			t.Fatalf("cast %s to %s: %v", value, domain, err)
		}
		return err == nil
	}
	for _, n := range nutrients {
		if !accepts("0", n.domain) || !accepts(n.hi, n.domain) {
			t.Errorf("%s: domain %s rejects a value inside the original range 0..%s", n.col, n.domain, n.hi)
		}
		if accepts(step("0", n.scale, -1), n.domain) {
			t.Errorf("%s: domain %s accepts a negative value", n.col, n.domain)
		}
		ceiling, looser := domainLooser[n.col]
		if got := accepts(step(n.hi, n.scale, +1), n.domain); got != looser {
			t.Errorf("%s: domain %s accepts %s = %v, want %v (domainLooser)", n.col, n.domain, step(n.hi, n.scale, +1), got, looser)
		}
		if looser {
			if !accepts(ceiling, n.domain) || accepts(step(ceiling, n.scale, +1), n.domain) {
				t.Errorf("%s: domain %s's ceiling is not %s", n.col, n.domain, ceiling)
			}
		}
	}
	var typed int64 = queryInt(t, conn, `
		SELECT count(*) FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid
		 WHERE a.attrelid = 'nutrition_metrics_optimized'::regclass AND ty.typtype = 'd'`)
	if typed != int64(len(nutrients)) {
		t.Errorf("nutrition_metrics_optimized has %d domain-typed columns, want %d", typed, len(nutrients))
	}
	for _, n := range nutrients {
		var dom string
		if err := conn.QueryRow(testCtx(t), `
			SELECT format_type(atttypid, NULL) FROM pg_attribute
			 WHERE attrelid = 'nutrition_metrics_optimized'::regclass AND attname = $1`, n.col).Scan(&dom); err != nil {
			t.Fatal(err)
		}
		if dom != n.domain {
			t.Errorf("nutrition_metrics_optimized.%s is %s, want %s", n.col, dom, n.domain)
		}
	}
}

// TestConstraintCounts pins the counts of the service's dump: 40 CHECKs on
// nutrition_metrics, 16 on activity_metrics_v2, 68 symptom types and 68 enum
// labels.
func TestConstraintCounts(t *testing.T) {
	t.Parallel()
	conn := connect(t, pgtest.NewMigratedDB(t))
	count := func(table string) int64 {
		return queryInt(t, conn, `SELECT count(*) FROM pg_constraint WHERE conrelid = to_regclass($1) AND contype = 'c'`, table)
	}
	for table, want := range map[string]int64{
		"nutrition_metrics": 40, "activity_metrics_v2": 16,
		"nutrition_metrics_optimized": 0, "activity_metrics_v2_optimized": 1,
		"nutrition_metrics_unconstrained": 0, "activity_metrics_v2_unconstrained": 0, "symptoms_unconstrained": 0,
	} {
		if got := count(table); got != want {
			t.Errorf("%s has %d CHECK constraints, want %d", table, got, want)
		}
	}
	if got := queryInt(t, conn, `SELECT count(*) FROM pg_enum WHERE enumtypid = 'symptom_type_enum'::regtype`); got != 68 {
		t.Errorf("symptom_type_enum has %d labels, want 68", got)
	}
	labels := queryStrings(t, conn, `SELECT enumlabel FROM pg_enum WHERE enumtypid = 'symptom_type_enum'::regtype ORDER BY enumsortorder`)
	if strings.Join(labels, ",") != strings.Join(symptomTypes, ",") {
		t.Errorf("symptom_type_enum labels differ from the 68 CHECK values:\n got %v\nwant %v", labels, symptomTypes)
	}
	// No UNIQUE constraint duplicating a primary key.
	if dups := queryStrings(t, conn, `
		SELECT u.conrelid::regclass::text || '.' || u.conname
		  FROM pg_constraint u JOIN pg_constraint p
		    ON p.conrelid = u.conrelid AND p.contype = 'p' AND u.contype = 'u' AND p.conkey = u.conkey
		 WHERE u.connamespace = 'public'::regnamespace`); len(dups) > 0 {
		t.Errorf("UNIQUE constraints identical to the PK: %v", dups)
	}
}
