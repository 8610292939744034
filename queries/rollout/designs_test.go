package rollout_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"hmperf/queries/pgtest"
	"hmperf/queries/rollout"
)

// designCase is one table whose report design rollout builds: rows to seed,
// what the twin's layout must be, and rows the live CHECKs accept and refuse.
type designCase struct {
	table   string
	seed    string // $1 is the row count
	domains int    // how many range CHECKs become domains
	checks  int    // how many CHECKs the validation function replaces
	// column is typed with domain after the swap; gone is a live CHECK the
	// twin does not copy.
	column, domain, gone string
	accept, refuse       []string
}

const rolloutUser = `'00000000-0000-0000-0000-000000000019'`

var designCases = []designCase{
	{
		table: "nutrition_metrics",
		seed: `INSERT INTO public.nutrition_metrics (user_id, recorded_at, protein_g, water_ml, iron_mg, aggregation_period)
			SELECT ` + rolloutUser + `, date_trunc('minute', now()) - make_interval(mins => g), g % 1000, g % 20000, (g % 200) / 7.0,
			       (ARRAY['meal', 'daily', 'weekly'])[1 + g % 3] FROM generate_series(1, $1) g`,
		domains: 39, checks: 1, column: "protein_g", domain: "nutrition_metrics_protein_g", gone: "nutrition_protein_check",
		accept: []string{
			`INSERT INTO public.nutrition_metrics (user_id, recorded_at, protein_g, aggregation_period) VALUES (` + rolloutUser + `, now() - interval '3 days', 1000, NULL)`,
		},
		refuse: []string{
			`INSERT INTO public.nutrition_metrics (user_id, recorded_at, protein_g) VALUES (` + rolloutUser + `, now() - interval '4 days', 1000.01)`,
			`INSERT INTO public.nutrition_metrics (user_id, recorded_at, iron_mg) VALUES (` + rolloutUser + `, now() - interval '4 days', -0.001)`,
			`INSERT INTO public.nutrition_metrics (user_id, recorded_at, aggregation_period) VALUES (` + rolloutUser + `, now() - interval '4 days', 'hourly')`,
		},
	},
	{
		table: "activity_metrics_v2",
		seed: `INSERT INTO public.activity_metrics_v2 (user_id, recorded_at, step_count, distance_cycling_meters, exercise_time_minutes, aggregation_period)
			SELECT ` + rolloutUser + `, date_trunc('minute', now()) - make_interval(mins => g), g % 200000, g % 1000000, g % 1440,
			       (ARRAY['minute', 'hourly', 'daily'])[1 + g % 3] FROM generate_series(1, $1) g`,
		checks: 15, column: "step_count", gone: "activity_v2_step_count_check",
		accept: []string{
			`INSERT INTO public.activity_metrics_v2 (user_id, recorded_at, step_count, move_time_minutes) VALUES (` + rolloutUser + `, now() - interval '3 days', 200000, NULL)`,
		},
		refuse: []string{
			`INSERT INTO public.activity_metrics_v2 (user_id, recorded_at, step_count) VALUES (` + rolloutUser + `, now() - interval '4 days', 200001)`,
			`INSERT INTO public.activity_metrics_v2 (user_id, recorded_at, move_time_minutes) VALUES (` + rolloutUser + `, now() - interval '4 days', -1)`,
			`INSERT INTO public.activity_metrics_v2 (user_id, recorded_at, aggregation_period) VALUES (` + rolloutUser + `, now() - interval '4 days', 'yearly')`,
		},
	},
}

// TestRolloutDesigns rolls nutrition_metrics and activity_metrics_v2 out and
// back on hmperf's own database: plan shows the design, the swapped table
// has it with every row and refuses what the live CHECKs refused, revert
// restores the original layout with every row and leaves nothing behind.
func TestRolloutDesigns(t *testing.T) {
	for _, c := range designCases {
		t.Run(c.table, func(t *testing.T) {
			t.Parallel()
			b := setup(t, pgtest.NewMigratedDB(t))
			ctx := context.Background()
			exec(t, b.pool, `INSERT INTO public.users (id, email) VALUES (`+rolloutUser+`, 'rollout@example.org') ON CONFLICT DO NOTHING`)
			exec(t, b.pool, c.seed, 2000)
			p, err := b.runner.Plan(ctx, c.table, time.Second)
			if err != nil {
				t.Fatalf("plan: %v", err)
			}
			checkPlan(t, c, p)
			layout := checkLayout(t, b.pool, c)
			if _, err := b.runner.Start(ctx, c.table, rollout.Options{BatchRows: 300, Force: true}); err != nil {
				t.Fatalf("start --force: %v", err)
			}
			if v, err := b.runner.Verify(ctx, c.table); err != nil || !v.OK() {
				t.Fatalf("verify: %v %v", err, v)
			}
			if _, err := b.runner.Swap(ctx, c.table); err != nil {
				t.Fatalf("swap: %v", err)
			}
			if n := count(t, b.pool, "SELECT count(*) FROM public."+c.table); n != 2000 {
				t.Errorf("after swap %s holds %d rows, want 2000", c.table, n)
			}
			swapped := checkLayout(t, b.pool, c)
			if swapped.hasGone || !swapped.hasValidation || swapped.columnType != c.wantType() {
				t.Errorf("after swap: %+v; want CHECK %s gone, the validation CHECK, %s typed %s", swapped, c.gone, c.column, c.wantType())
			}
			checkSemantics(t, b.pool, c)
			if _, err := b.runner.Revert(ctx, c.table); err != nil {
				t.Fatalf("revert: %v", err)
			}
			if back := checkLayout(t, b.pool, c); back != layout {
				t.Errorf("after revert the layout is %+v, want %+v", back, layout)
			}
			if n := count(t, b.pool, "SELECT count(*) FROM public."+c.table); n != 2000+int64(len(c.accept)) {
				t.Errorf("after revert %s holds %d rows, want %d", c.table, n, 2000+len(c.accept))
			}
			left := count(t, b.pool, `SELECT (SELECT count(*) FROM pg_class WHERE relnamespace IN ('hmperf_rollout_new'::regnamespace, 'hmperf_rollout_old'::regnamespace))
				+ (SELECT count(*) FROM pg_type WHERE typname LIKE '`+c.table+`\_%' AND typtype = 'd')
				+ (SELECT count(*) FROM pg_proc WHERE proname = 'validate_`+c.table+`')`)
			if left != 0 {
				t.Errorf("after revert %d relations, domains or validation functions of the rollout are left", left)
			}
		})
	}
}

func (c designCase) wantType() string {
	if c.domain != "" {
		return c.domain
	}
	return "integer"
}

func checkPlan(t *testing.T, c designCase, p *rollout.Plan) {
	t.Helper()
	d := p.Design
	if len(d.Blockers) != 0 || len(d.Enums) != 0 || len(d.Domains) != c.domains {
		t.Errorf("plan: blockers %q, %d enums, %d domains; want none, none, %d", d.Blockers, len(d.Enums), len(d.Domains), c.domains)
	}
	if d.Validation == nil || len(d.Validation.Checks) != c.checks {
		t.Fatalf("plan: validation %+v, want one replacing %d CHECKs", d.Validation, c.checks)
	}
	for _, col := range p.Columns {
		if col.Column == c.column && c.domain != "" && !strings.HasPrefix(col.Twin, "domain "+c.domain+" (") {
			t.Errorf("plan: %s's twin is %q, want the domain %s", c.column, col.Twin, c.domain)
		}
	}
}

// layout is what the tests compare of a table: the column's type, whether
// the replaced CHECK and the validation CHECK are there, and how many CHECKs.
type layout struct {
	columnType             string
	hasGone, hasValidation bool
	checks                 int64
}

func checkLayout(t *testing.T, db *pgxpool.Pool, c designCase) layout {
	t.Helper()
	var l layout
	err := db.QueryRow(context.Background(), `
		SELECT (SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = $1::regclass AND attname = $2),
		       EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = $1::regclass AND conname = $3),
		       EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = $1::regclass AND conname = 'validate_' || $4),
		       (SELECT count(*) FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'c')`,
		"public."+c.table, c.column, c.gone, c.table).Scan(&l.columnType, &l.hasGone, &l.hasValidation, &l.checks)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// checkSemantics inserts rows the live CHECKs accept, which the swapped
// table must take, and rows they refuse, which it must refuse too.
func checkSemantics(t *testing.T, db *pgxpool.Pool, c designCase) {
	t.Helper()
	for _, sql := range c.accept {
		exec(t, db, sql)
	}
	for _, sql := range c.refuse {
		_, err := db.Exec(context.Background(), sql)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "23514" {
			t.Errorf("after swap %s: %v, want a check violation (23514)", sql, err)
		}
	}
}

func exec(t *testing.T, db *pgxpool.Pool, sql string, args ...any) {
	t.Helper()
	if _, err := db.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}
