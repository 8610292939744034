package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"hmperf/engine"
	"hmperf/queries/catalog"
	"hmperf/queries/ingest"
)

// checkProbe is one record to try against one live CHECK.
type checkProbe struct {
	name string
	edit func(engine.Record) error
	// configured names the VALIDATION_* setting when the engine's bound is
	// narrower than the CHECK's by configuration: Go refuses what the
	// table would take there, by design.
	configured string
}

// TestServiceChecksParity probes every CHECK of the metric tables of the
// service's schema (the project's fixtures always, the service's own dump
// where present) at its bound and one step past it, and compares the
// verdict of the validator Open fitted to the catalogue with PostgreSQL's,
// obtained by inserting the row. Where the CHECK refuses, Go must refuse;
// where it accepts, Go must accept unless a VALIDATION_* setting narrows
// the bound (logged).
func TestServiceChecksParity(t *testing.T) {
	for _, db := range serviceLikePools() {
		t.Run(db.name, func(t *testing.T) {
			pool := db.open(t)
			if pool == nil {
				t.Skip("the service's dump (../shared/fixtures/original-service) is not beside the project")
			}
			checksParity(t, pool)
		})
	}
}

func checksParity(t *testing.T, pool *pgxpool.Pool) {
	ctx := context.Background()
	v := engine.NewValidator(engine.DefaultRules(), engine.DefaultPolicy(), nil)
	in, err := ingest.Open(ctx, pool, ingest.Options{Context: engine.ContextBulkImport, Validator: v})
	if err != nil {
		t.Fatal(err)
	}
	if u := in.UnknownChecks(); len(u) != 0 {
		t.Errorf("unknown CHECKs: %v", u)
	}
	rules := v.Rules()
	var user engine.UUID
	if err := pool.QueryRow(ctx, "INSERT INTO users (email) VALUES ('probe@example.com') RETURNING id").Scan((*[16]byte)(&user)); err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(-24 * time.Hour).Truncate(time.Second)
	probed, checks := 0, 0
	for _, k := range engine.Kinds() {
		live, err := catalog.Read(ctx, pool, pgx.Identifier{k.Table()})
		if err != nil {
			t.Fatal(err)
		}
		m, err := catalog.Map(engine.TableOf(k), live)
		if err != nil {
			t.Fatal(err)
		}
		cs, err := catalog.ReadChecks(ctx, pool, live)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			probes := probesOfCheck(t, rules, k, m, c)
			if len(probes) == 0 {
				continue
			}
			checks++
			for _, p := range probes {
				probed++
				rec := engine.Baseline(k, user, at.Add(time.Duration(probed)*time.Second))
				if err := p.edit(rec); err != nil {
					t.Errorf("%s %s: cannot set: %v", c.Name, p.name, err)
					continue
				}
				compareVerdicts(t, pool, m, rules, c, p, rec)
			}
		}
	}
	if checks == 0 || probed < 2*checks {
		t.Errorf("%d probes of %d CHECKs: the walk missed some", probed, checks)
	}
	t.Logf("%d probes of %d CHECKs", probed, checks)
}

// compareVerdicts inserts rec and compares the database's verdict on CHECK
// c with the validator's on the whole record.
func compareVerdicts(t *testing.T, pool *pgxpool.Pool, m *catalog.Mapping, rules *engine.Rules, c catalog.Check, p checkProbe, rec engine.Record) {
	t.Helper()
	goValid := len(rules.Validate(rec, nil)) == 0
	dbErr := insertMapped(context.Background(), pool, m, rec)
	var pgErr *pgconn.PgError
	dbValid := dbErr == nil
	if dbErr != nil && (!errors.As(dbErr, &pgErr) || pgErr.ConstraintName != c.Name) {
		t.Logf("%s %s: refused for another reason, not compared: %v", c.Name, p.name, dbErr)
		return
	}
	switch {
	case !dbValid && goValid:
		t.Errorf("%s %s: PostgreSQL refuses (%s), the validator accepts", c.Name, p.name, c.Definition)
	case dbValid && !goValid && p.configured != "":
		t.Logf("%s %s: the validator is stricter by %s", c.Name, p.name, p.configured)
	case dbValid && !goValid:
		t.Errorf("%s %s: PostgreSQL accepts, the validator refuses: %v", c.Name, p.name, rules.Validate(rec, nil))
	}
}

// probesOfCheck returns the probes of one CHECK: the bound and one step
// past it for a range, every allowed value and one more for a list, and
// the edge of each cross-field and time rule.
func probesOfCheck(t *testing.T, rules *engine.Rules, k engine.Kind, m *catalog.Mapping, c catalog.Check) []checkProbe {
	t.Helper()
	if col, b, ok := catalog.RangeOf(c); ok {
		if field, ok := m.Field(col); ok {
			return rangeCheckProbes(t, ruleFor(t, rules, k, field, engine.RuleRange), b)
		}
	}
	if col, values, ok := catalog.ValuesOf(c); ok {
		if field, ok := m.Field(col); ok {
			return enumCheckProbes(ruleFor(t, rules, k, field, engine.RuleEnum), values)
		}
	}
	var fields []string
	for _, col := range c.Columns {
		if f, ok := m.Field(col); ok {
			fields = append(fields, f)
		}
	}
	slices.Sort(fields)
	return crossProbes(rules, k, strings.Join(fields, ","))
}

func ruleFor(t *testing.T, rules *engine.Rules, k engine.Kind, field string, kind engine.RuleKind) engine.Rule {
	t.Helper()
	for _, r := range rules.For(k) {
		if r.Field == field && r.Kind == kind {
			return r
		}
	}
	t.Fatalf("%s: no %s rule for %s", k.Table(), kind, field)
	return engine.Rule{}
}

// rangeCheckProbes tries the CHECK's own bounds: its lowest and highest
// accepted values and one step beyond each, one step being the column's.
func rangeCheckProbes(t *testing.T, r engine.Rule, b engine.Bound) []checkProbe {
	t.Helper()
	var out []checkProbe
	add := func(v float64, inside bool) {
		configured := ""
		if inside && (v < r.Lo || !r.NoUpperBound && v > r.Hi) {
			configured = strings.Join(r.Env, ", ")
			if configured == "" {
				t.Errorf("%s: %g is within the CHECK but outside the rule's [%g, %g] with no setting to explain it", r.Field, v, r.Lo, r.Hi)
			}
		}
		out = append(out, checkProbe{name: fmt.Sprint(v), configured: configured, edit: func(rec engine.Record) error {
			makeRoomFor(rec, r.Field, v)
			return r.Apply(rec, v)
		}})
	}
	if !math.IsInf(b.Lo, -1) {
		lo := b.Lo
		if b.LoOpen {
			lo += r.Step
		}
		add(roundTo(lo, r.Step), true)
		add(roundTo(lo-r.Step, r.Step), false)
	}
	if !math.IsInf(b.Hi, 1) {
		hi := b.Hi
		if b.HiOpen {
			hi -= r.Step
		}
		add(roundTo(hi, r.Step), true)
		add(roundTo(hi+r.Step, r.Step), false)
	}
	return out
}

func roundTo(v, step float64) float64 { return math.Round(v/step) * step }

// enumCheckProbes tries every value the CHECK lists and one it does not.
func enumCheckProbes(r engine.Rule, values []string) []checkProbe {
	var out []checkProbe
	for _, v := range append(slices.Clone(values), "not_an_allowed_value") {
		out = append(out, checkProbe{name: v, edit: func(rec engine.Record) error { return r.ApplyText(rec, v) }})
	}
	return out
}

// crossProbes tries the edge of the cross-field and time CHECKs, by the
// engine fields they read.
func crossProbes(rules *engine.Rules, k engine.Kind, fields string) []checkProbe {
	switch {
	case k == engine.KindSleep && fields == "awake_minutes,deep_sleep_minutes,duration_minutes,light_sleep_minutes,rem_sleep_minutes":
		// The baseline night: 450 minutes, 400 of them light sleep.
		awake := func(n int32) func(engine.Record) error {
			return func(rec engine.Record) error { rec.(*engine.Sleep).Awake = engine.Some(n); return nil }
		}
		return []checkProbe{{name: "stages = duration", edit: awake(50)}, {name: "stages = duration + 1", edit: awake(51)}}
	case k == engine.KindSleep && fields == "sleep_end,sleep_start":
		return spanProbes(func(rec engine.Record) (*time.Time, time.Time) { s := rec.(*engine.Sleep); return &s.End, s.Start })
	case k == engine.KindWorkout && fields == "ended_at,started_at":
		return spanProbes(func(rec engine.Record) (*time.Time, time.Time) { w := rec.(*engine.Workout); return &w.End, w.Start })
	case k == engine.KindSymptom && (fields == "onset_at" || fields == "recorded_at"):
		var out []checkProbe
		for _, r := range rules.For(k) {
			if r.Kind == engine.RuleTime && r.Field == fields {
				for _, p := range timeProbes(r) {
					out = append(out, checkProbe{name: p.name, edit: func(rec engine.Record) error { return p.set(r, rec) }})
				}
			}
		}
		return out
	}
	return nil
}

// spanProbes tries an end one microsecond (PostgreSQL's resolution) after
// the start, and equal to it.
func spanProbes(end func(engine.Record) (*time.Time, time.Time)) []checkProbe {
	set := func(d time.Duration) func(engine.Record) error {
		return func(rec engine.Record) error { e, start := end(rec); *e = start.Add(d); return nil }
	}
	return []checkProbe{{name: "end = start + 1µs", edit: set(time.Microsecond)}, {name: "end = start", edit: set(0)}}
}

// insertMapped inserts rec into its live table, mapped as the ingester
// maps it, in a transaction that is rolled back.
func insertMapped(ctx context.Context, pool *pgxpool.Pool, m *catalog.Mapping, rec engine.Record) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	marks := make([]string, len(m.Columns))
	cols := make([]string, len(m.Columns))
	for i, c := range m.Columns {
		marks[i], cols[i] = fmt.Sprintf("$%d", i+1), pgx.Identifier{c}.Sanitize()
	}
	sql := fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", m.Table.Ident().Sanitize(), strings.Join(cols, ", "), strings.Join(marks, ", "))
	_, err = tx.Exec(ctx, sql, m.Row(nil, rec.AppendValues(nil))...)
	return err
}
