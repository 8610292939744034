package ingest_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"hmperf/engine"
	"hmperf/queries"
	"hmperf/queries/ingest"
	"hmperf/queries/pgtest"
)

// exec runs sql on pool or fails the test.
func exec(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) {
	t.Helper()
	if _, err := pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// orphans counts metric rows whose user does not exist.
func orphans(t *testing.T, pool *pgxpool.Pool) int64 {
	t.Helper()
	var n int64
	err := pool.QueryRow(context.Background(), `
		SELECT (SELECT count(*) FROM heart_rate_metrics m WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = m.user_id))
		     + (SELECT count(*) FROM blood_pressure_metrics m WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = m.user_id))
		     + (SELECT count(*) FROM nutrition_metrics m WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = m.user_id))`).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// requireReplicaRole skips tests of the per-batch check where the test role
// (HMPERF_TEST_DSN's, say) may not set session_replication_role; the
// project's own test cluster runs as a superuser, so CI always runs them.
func requireReplicaRole(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	if err := queries.CanSkipTriggers(context.Background(), pool); err != nil {
		t.Skipf("the test role may not set session_replication_role: %v", err)
	}
}

func sampleRun(t *testing.T, in *ingest.Ingester, n int) ingest.Totals {
	t.Helper()
	if err := ingest.RunSample(context.Background(), in, generator(t, 7, 0.05, 0.05), n, 500, nil); err != nil {
		t.Fatal(err)
	}
	return in.Totals()
}

// TestForeignKeyCheckedPerBatch: with a role that may set
// session_replication_role and tables with nothing but the users foreign
// key, every table is checked per batch, and no row lacks its user.
func TestForeignKeyCheckedPerBatch(t *testing.T) {
	t.Parallel()
	pool := newPool(t)
	requireReplicaRole(t, pool)
	tot := sampleRun(t, newIngester(t, pool, engine.DefaultPolicy(), engine.ContextAPI), 3000)
	checkAccounting(t, pool, tot, 3000)
	fk := tot.ForeignKeyCheck
	if len(fk.Batch) != len(engine.Kinds()) || fk.Reason != "" {
		t.Errorf("foreign-key check %+v, want every table per batch", fk)
	}
	if n := orphans(t, pool); n != 0 {
		t.Errorf("%d rows without their user", n)
	}
}

// TestTriggersAndRulesKeepRowChecks: a table with a user INSERT trigger, or
// a replica-only trigger, keeps PostgreSQL's per-row checks (so its
// triggers fire exactly as without hmperf); the others go per batch.
func TestTriggersAndRulesKeepRowChecks(t *testing.T) {
	t.Parallel()
	pool := newPool(t)
	requireReplicaRole(t, pool)
	exec(t, pool, `CREATE TABLE hr_seen (n int);
		CREATE FUNCTION hr_seen() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN INSERT INTO hr_seen VALUES (1); RETURN NEW; END $$;
		CREATE TRIGGER hr_seen BEFORE INSERT ON heart_rate_metrics FOR EACH ROW EXECUTE FUNCTION hr_seen();
		CREATE FUNCTION bp_noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
		CREATE TRIGGER bp_noop AFTER DELETE ON blood_pressure_metrics FOR EACH STATEMENT EXECUTE FUNCTION bp_noop();
		ALTER TABLE blood_pressure_metrics ENABLE REPLICA TRIGGER bp_noop`)
	tot := sampleRun(t, newIngester(t, pool, engine.DefaultPolicy(), engine.ContextAPI), 3000)
	checkAccounting(t, pool, tot, 3000)
	fk := tot.ForeignKeyCheck
	for _, table := range []string{"heart_rate_metrics", "blood_pressure_metrics"} {
		if slices.Contains(fk.Batch, table) || !strings.Contains(fk.Reason, table) {
			t.Errorf("%s checked per batch despite its trigger: %+v", table, fk)
		}
	}
	if !slices.Contains(fk.Batch, "nutrition_metrics") {
		t.Errorf("nutrition_metrics not checked per batch: %+v", fk)
	}
	var seen int64
	if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM hr_seen").Scan(&seen); err != nil {
		t.Fatal(err)
	}
	if hr := tot.ByType["heart_rate_metrics"]; hr == nil || hr.Inserted == 0 || seen < hr.Inserted {
		t.Errorf("the INSERT trigger fired %d times for %+v heart-rate rows", seen, hr)
	}
}

// TestTriggerCreatedDuringIngest: a trigger created after the ingest
// started (and after its first batch chose the per-batch check) fires for
// every row of the batches after it: each batch checks its tables again
// inside its own transaction.
func TestTriggerCreatedDuringIngest(t *testing.T) {
	t.Parallel()
	pool := newPool(t)
	requireReplicaRole(t, pool)
	in := newIngester(t, pool, engine.DefaultPolicy(), engine.ContextAPI)
	first := sampleRun(t, in, 1000)
	if !slices.Contains(first.ForeignKeyCheck.Batch, "heart_rate_metrics") {
		t.Fatalf("the first batches did not check heart_rate_metrics per batch: %+v", first.ForeignKeyCheck)
	}
	before := first.ByType["heart_rate_metrics"].Inserted
	exec(t, pool, `CREATE TABLE hr_late (n int);
		CREATE FUNCTION hr_late() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN INSERT INTO hr_late VALUES (1); RETURN NEW; END $$;
		CREATE TRIGGER hr_late BEFORE INSERT ON heart_rate_metrics FOR EACH ROW EXECUTE FUNCTION hr_late()`)
	if err := ingest.RunSample(context.Background(), in, generator(t, 8, 0.05, 0.05), 1000, 500, nil); err != nil {
		t.Fatal(err)
	}
	after := in.Totals().ByType["heart_rate_metrics"].Inserted - before
	var fired int64
	if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM hr_late").Scan(&fired); err != nil {
		t.Fatal(err)
	}
	if after == 0 || fired != after {
		t.Errorf("the late trigger fired %d times for %d heart-rate rows written after it", fired, after)
	}
}

// TestRoleWithoutReplicationRoleKeepsRowChecks: a role that may write the
// tables but not set session_replication_role ingests as well, with
// PostgreSQL's per-row checks, and says why.
func TestRoleWithoutReplicationRoleKeepsRowChecks(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewMigratedDB(t)
	owner, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(owner.Close)
	pool := writerRole(t, owner, dsn)
	tot := sampleRun(t, newIngester(t, pool, engine.DefaultPolicy(), engine.ContextAPI), 2000)
	checkAccounting(t, owner, tot, 2000)
	fk := tot.ForeignKeyCheck
	if len(fk.Batch) != 0 || !strings.Contains(fk.Reason, "session_replication_role") {
		t.Errorf("foreign-key check %+v, want per row because of the role", fk)
	}
	if tot.Inserted == 0 {
		t.Error("nothing inserted")
	}
}

// writerRole creates a login role that may write every table of the
// database but is no superuser, and returns a pool connected as it.
func writerRole(t *testing.T, owner *pgxpool.Pool, dsn string) *pgxpool.Pool {
	t.Helper()
	role := "hmperf_writer_" + strconv.FormatInt(time.Now().UnixNano(), 36)
	ident := pgx.Identifier{role}.Sanitize()
	exec(t, owner, "CREATE ROLE "+ident+" LOGIN NOSUPERUSER")
	t.Cleanup(func() {
		for _, sql := range []string{"DROP OWNED BY " + ident, "DROP ROLE " + ident} {
			if _, err := owner.Exec(context.Background(), sql); err != nil {
				t.Errorf("%s: %v", sql, err)
			}
		}
	})
	exec(t, owner, "GRANT ALL ON ALL TABLES IN SCHEMA public TO "+ident)
	exec(t, owner, "GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO "+ident)
	exec(t, owner, "GRANT CREATE, USAGE ON SCHEMA public TO "+ident)
	exec(t, owner, "GRANT USAGE ON SCHEMA hmperf TO "+ident)
	exec(t, owner, "GRANT ALL ON ALL TABLES IN SCHEMA hmperf TO "+ident)
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.User, cfg.ConnConfig.Password = role, ""
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// TestUserDeletedDuringBatch: a batch whose user is being deleted waits for
// the delete (the lock the foreign key would take), then finds the user
// gone and lets PostgreSQL's per-row checks reject that user's rows: no row
// is stored without its user, and every record is accounted for.
func TestUserDeletedDuringBatch(t *testing.T) {
	t.Parallel()
	pool := newPool(t)
	requireReplicaRole(t, pool)
	in := newIngester(t, pool, engine.DefaultPolicy(), engine.ContextAPI)
	ctx := context.Background()
	gone, kept := engine.UUID{1}, engine.UUID{2}
	t0 := time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC)
	batch := func(from int) []ingest.Item {
		var items []ingest.Item
		for i := range 10 {
			for j, u := range []engine.UUID{gone, kept} {
				r := &engine.HeartRate{User: u, RecordedAt: t0.Add(time.Duration(from+i) * time.Minute), HeartRate: 70}
				items = append(items, ingest.Item{Index: int64(2*(from+i) + j), Type: "heart_rate", Record: r})
			}
		}
		return items
	}
	if err := in.Write(ctx, batch(0)); err != nil {
		t.Fatal(err)
	}
	deleter, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer deleter.Rollback(ctx)
	if _, err := deleter.Exec(ctx, "DELETE FROM users WHERE id = $1", [16]byte(gone)); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- in.Write(ctx, batch(10)) }()
	waitForLockWait(t, pool)
	if err := deleter.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	tot := in.Totals()
	checkAccounting(t, pool, tot, 40)
	if !slices.Contains(tot.ForeignKeyCheck.Batch, "heart_rate_metrics") {
		t.Fatalf("heart_rate_metrics not checked per batch (%+v): the test checks nothing", tot.ForeignKeyCheck)
	}
	if tot.Inserted != 30 || tot.Rejected != 10 || tot.RejectsByReason["db:heart_rate_metrics_user_id_fkey"] != 10 {
		t.Errorf("inserted %d, rejected %d %v; want 30 inserted (10 then cascaded away) and the deleted user's 10 rejected by the foreign key",
			tot.Inserted, tot.Rejected, tot.RejectsByReason)
	}
	if n := orphans(t, pool); n != 0 {
		t.Errorf("%d rows without their user", n)
	}
}

// waitForLockWait waits until some session of the database waits for a lock.
func waitForLockWait(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		var waiting bool
		err := pool.QueryRow(context.Background(), `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock')`).Scan(&waiting)
		if err != nil {
			t.Fatal(err)
		}
		if waiting {
			return
		}
	}
	t.Fatal("the batch never waited for the deleting transaction")
}
