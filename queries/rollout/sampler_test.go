package rollout_test

import (
	"context"
	"testing"
	"time"

	"hmperf/queries/monitor"
	"hmperf/queries/pgtest"
	"hmperf/queries/rollout"
)

// serviceInsert inserts n symptoms rows on a connection of the service's
// own, and has their statistics published before it returns.
func serviceInsert(t *testing.T, dsn string, n int) {
	t.Helper()
	ctx := context.Background()
	conn := pgtest.Connect(t, dsn, "service")
	for _, sql := range []string{
		`INSERT INTO symptoms (user_id, recorded_at, symptom_type, severity, notes)
		 SELECT '00000000-0000-0000-0000-000000000019', clock_timestamp() - make_interval(hours => 2, secs => g), 'fatigue', 'mild', 'service'
		   FROM generate_series(1, $1::int) g`,
		"SELECT pg_stat_force_next_flush()",
	} {
		if _, err := conn.Exec(ctx, sql, argsFor(sql, n)...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
}

// baseline waits until the statistics show the seeded rows of symptoms
// (published within seconds of their commit), then takes the write
// sampler's first sample, and mem's where mem is not nil.
func baseline(t *testing.T, b bundle, seeded int64, mem ...*monitor.MemorySampler) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		shown := count(t, b.pool, `SELECT sum(pg_stat_get_tuples_inserted(relid))::bigint FROM pg_partition_tree('public.symptoms')`)
		if shown >= seeded {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the statistics show %d of the %d seeded rows", shown, seeded)
		}
	}
	if r, err := monitor.Sample(context.Background(), b.pool); err != nil || r.Status != monitor.SampleBaseline {
		t.Fatalf("first sample: %+v, %v; want a baseline", r, err)
	}
	for _, m := range mem {
		if r, err := m.Sample(context.Background(), b.pool); err != nil || r.Status != monitor.SampleBaseline {
			t.Fatalf("first sample in memory: %+v, %v; want a baseline", r, err)
		}
	}
}

// sampleSymptoms takes a sample of the service's writes, stored or with
// mem where it is not nil, and returns the part for symptoms.
func sampleSymptoms(t *testing.T, b bundle, mem ...*monitor.MemorySampler) monitor.TableSample {
	t.Helper()
	sample := monitor.Sample
	if len(mem) > 0 {
		sample = mem[0].Sample
	}
	r, err := sample(context.Background(), b.pool)
	if err != nil {
		t.Fatal(err)
	}
	for _, ts := range r.Tables {
		if ts.Table == "symptoms" {
			return ts
		}
	}
	return monitor.TableSample{Table: "symptoms"}
}

// TestExchangeHandsTheSamplerOver: the monitor's write samplers count, for
// a table being rolled out, exactly the rows the service wrote, across the
// swap and the swap back: never the backfill's copies or the log applied
// to the original (which it would see in the incoming table's counters),
// and never losing what the service wrote to the outgoing table since the
// last sample.
func TestExchangeHandsTheSamplerOver(t *testing.T) {
	t.Parallel()
	b := setup(t, pgtest.NewMigratedDB(t))
	seed(t, b.pool, 3000)
	ctx := context.Background()
	// The stored sampler, and one that keeps its state in memory as a
	// monitoring role's or a --read-only dashboard's does.
	mem := &monitor.MemorySampler{}
	sample := func(step string, want int64) {
		t.Helper()
		if got := sampleSymptoms(t, b); got.Rows != want || got.Inserted != want || got.RolledBack != 0 || got.HmperfRows != 0 {
			t.Errorf("%s: the sample of symptoms is %+v; want the service's %d rows, inserted and committed", step, got, want)
		}
		if got := sampleSymptoms(t, b, mem); got.Rows != want || got.Inserted != want || got.RolledBack != 0 || got.HmperfRows != 0 {
			t.Errorf("%s: the sample in memory of symptoms is %+v; want the service's %d rows, inserted and committed", step, got, want)
		}
	}
	baseline(t, b, 3000, mem)
	if _, err := b.runner.Plan(ctx, "symptoms", time.Second); err != nil {
		t.Fatal(err)
	}
	serviceInsert(t, b.dsn, 50)
	if _, err := b.runner.Start(ctx, "symptoms", rollout.Options{BatchRows: 500, Force: true}); err != nil {
		t.Fatal(err)
	}
	serviceInsert(t, b.dsn, 70)
	sample("during the backfill", 120)
	serviceInsert(t, b.dsn, 30)
	if _, err := b.runner.Swap(ctx, "symptoms"); err != nil {
		t.Fatal(err)
	}
	serviceInsert(t, b.dsn, 40)
	sample("after the swap", 70)
	serviceInsert(t, b.dsn, 20)
	if _, err := b.runner.Revert(ctx, "symptoms"); err != nil {
		t.Fatal(err)
	}
	serviceInsert(t, b.dsn, 10)
	sample("after the swap back", 30)
}
