package bench

import (
	"fmt"
	"time"

	"hmperf/engine"
)

// Dataset is the N generated rows of one table pair, shared by its variants.
type Dataset struct {
	Kind    engine.Kind
	Columns []string // the engine's columns, as Rows hold them
	Rows    [][]any
	// Records are the same rows as the engine's records, which the COPY
	// encoder writes from.
	Records []engine.Record
	Users   [][16]byte // owners to create first (users is an FK target)
}

// rowsPerUser sets how many users share N rows: enough users that each
// one's samples stay a plausible history (a few hundred records) rather
// than many laps over the generator's 30-day window.
const rowsPerUser = 200

var kinds = map[string]engine.Kind{
	"nutrition": engine.KindNutrition,
	"symptoms":  engine.KindSymptom,
	"activity":  engine.KindActivity,
}

// Generate returns n rows for the pair table ("nutrition", "symptoms",
// "activity") from the engine's seeded sample generator, with no duplicates
// and no invalid records, so every row is accepted by every variant (the
// optimized tables accept exactly the original's values). The same seed and
// anchor give the same rows; timestamps fall in the 30 days before anchor.
func Generate(table string, n int, seed uint64, anchor time.Time) (Dataset, error) {
	kind, ok := kinds[table]
	if !ok {
		return Dataset{}, fmt.Errorf("bench: no generator for table %q", table)
	}
	g, err := engine.NewGenerator(engine.GenConfig{
		Seed:  seed,
		Users: max(engine.DefaultUsers, n/rowsPerUser),
		Types: []engine.Kind{kind},
		End:   anchor.UTC().Truncate(time.Hour),
	})
	if err != nil {
		return Dataset{}, err
	}
	ds := Dataset{Kind: kind}
	for _, u := range g.Users() {
		ds.Users = append(ds.Users, [16]byte(u))
	}
	ds.Rows = make([][]any, n)
	ds.Records = make([]engine.Record, n)
	for i := range ds.Rows {
		rec := g.Next().Record
		if ds.Columns == nil {
			ds.Columns = rec.Columns()
		}
		ds.Rows[i], ds.Records[i] = rec.AppendValues(nil), rec
	}
	return ds, nil
}
