package ingest_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"hmperf/engine"
)

// probe is one value to try for one rule, with the verdict the rule table
// promises.
type probe struct {
	name  string
	set   func(engine.Rule, engine.Record) error
	valid bool
}

// TestGoVerdictEqualsDatabase walks every rule that has a database CHECK (or
// a NOT NULL, a VARCHAR length, an enumeration) and, at each bound and just
// outside it, compares the Go verdict with the database's, obtained by
// really inserting the row.
func TestGoVerdictEqualsDatabase(t *testing.T) {
	t.Parallel()
	pool := newPool(t)
	ctx := context.Background()
	user := engine.UUID{0x42, 0x01}
	if _, err := pool.Exec(ctx, "INSERT INTO users (id) VALUES ($1)", [16]byte(user)); err != nil {
		t.Fatal(err)
	}
	rules := engine.DefaultRules()
	at := time.Now().Add(-24 * time.Hour).Truncate(time.Second)
	n := 0
	rules.Walk(func(k engine.Kind, r engine.Rule) {
		if !r.HasCheck {
			return
		}
		for _, p := range probesFor(r) {
			n++
			rec := engine.Baseline(k, user, at.Add(time.Duration(n)*time.Second))
			if err := p.set(r, rec); err != nil {
				t.Errorf("%s.%s %s: cannot set: %v", k.Table(), r.Field, p.name, err)
				continue
			}
			goValid := len(rules.Validate(rec, nil)) == 0
			dbValid, dbErr := insertProbe(ctx, pool, rec)
			if goValid != p.valid || dbValid != goValid {
				t.Errorf("%s.%s %s: rule table says valid=%v, Go says %v, database says %v (%v)",
					k.Table(), r.Field, p.name, p.valid, goValid, dbValid, dbErr)
			}
		}
	})
	if n < 300 {
		t.Errorf("only %d probes: the walk missed rules", n)
	}
}

// probesFor returns the probes of one rule: every bound and one step
// beyond, every allowed value and an unknown one, the longest string and
// one character more, and an empty required field.
func probesFor(r engine.Rule) []probe {
	switch r.Kind {
	case engine.RuleRange:
		var out []probe
		for _, p := range r.Probes() {
			v := p.Value
			out = append(out, probe{fmt.Sprint(v), func(r engine.Rule, rec engine.Record) error {
				makeRoomFor(rec, r.Field, v)
				return r.Apply(rec, v)
			}, p.Valid})
		}
		return out
	case engine.RuleEnum:
		var out []probe
		for _, a := range append(append([]string(nil), r.Allowed...), "not_an_allowed_value") {
			out = append(out, probe{a, textSetter(a), a != "not_an_allowed_value"})
		}
		return out
	case engine.RuleMaxLength:
		return []probe{
			{"max length", textSetter(strings.Repeat("é", r.MaxLength)), true},
			{"max length + 1", textSetter(strings.Repeat("é", r.MaxLength+1)), false},
		}
	case engine.RuleTime:
		return timeProbes(r)
	}
	return nil
}

// makeRoomFor moves the fields a cross-field rule ties to field, so that
// a boundary value of field is judged by its own range alone: a systolic of
// 50 needs a lower diastolic, a diastolic of 150 a higher systolic, and a
// sleep duration must match the night's length within the tolerance.
func makeRoomFor(rec engine.Record, field string, v float64) {
	switch r := rec.(type) {
	case *engine.BloodPressure:
		switch field {
		case "systolic":
			r.Diastolic = 30
		case "diastolic":
			r.Systolic = 250
		}
	case *engine.Sleep:
		if field == "duration_minutes" {
			minutes := min(max(v, 30), 1440)
			r.End = r.Start.Add(time.Duration(minutes) * time.Minute)
			r.LightMinutes = engine.Some[int32](0)
		}
	}
}

func textSetter(s string) func(engine.Rule, engine.Record) error {
	return func(r engine.Rule, rec engine.Record) error { return r.ApplyText(rec, s) }
}

// timeProbes tries the earliest instant and one microsecond before it
// (PostgreSQL's resolution), and the latest, "now + offset", a minute inside
// and a minute beyond, since the database's now() and Go's differ by the
// time the insert takes.
func timeProbes(r engine.Rule) []probe {
	set := func(t time.Time) func(engine.Rule, engine.Record) error {
		return func(r engine.Rule, rec engine.Record) error { return r.ApplyTime(rec, t) }
	}
	var out []probe
	if !r.Earliest.IsZero() {
		out = append(out, probe{"earliest", set(r.Earliest), true}, probe{"earliest - 1µs", set(r.Earliest.Add(-time.Microsecond)), false})
	}
	if r.HasLatest {
		latest := time.Now().Add(r.Latest)
		out = append(out, probe{"latest - 1m", set(latest.Add(-time.Minute)), true}, probe{"latest + 1m", set(latest.Add(time.Minute)), false})
	}
	return out
}

// insertProbe inserts rec under a savepoint that is rolled back, and reports
// whether the database accepted it.
func insertProbe(ctx context.Context, pool *pgxpool.Pool, rec engine.Record) (bool, error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback(ctx)
	cols := rec.Columns()
	marks := make([]string, len(cols))
	for i := range cols {
		marks[i] = fmt.Sprintf("$%d", i+1)
	}
	sql := fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", pgx.Identifier{rec.Kind().Table()}.Sanitize(),
		strings.Join(cols, ", "), strings.Join(marks, ", "))
	_, err = tx.Exec(ctx, sql, rec.AppendValues(nil)...)
	return err == nil, err
}
