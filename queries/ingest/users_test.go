package ingest_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"hmperf/engine"
	"hmperf/migrations"
	"hmperf/queries/ingest"
	"hmperf/queries/pgtest"
)

// seedUsers adds n users to the live users table, as the service's
// sign-ups would.
func seedUsers(t *testing.T, pool *pgxpool.Pool, n int) {
	t.Helper()
	if _, err := pool.Exec(context.Background(),
		"INSERT INTO users (email) SELECT 'signed-up-' || g || '@example.com' FROM generate_series(1, $1::int) g", n); err != nil {
		t.Fatal(err)
	}
}

// sampleGenerator generates recent records for the users the ingester says
// a sample must use: the existing ones on the live tables, its own in the
// sandbox.
func sampleGenerator(t *testing.T, in *ingest.Ingester) *engine.Generator {
	t.Helper()
	users, err := in.SampleUsers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	g, err := engine.NewGenerator(engine.GenConfig{Seed: 7, DupRate: 0.05, InvalidRate: 0.02, UserIDs: users,
		End: time.Now().UTC().Truncate(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// serviceDumpPool is the dump of the service's real database, adopted,
// where it is beside the project; nil otherwise.
func serviceDumpPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	dump := filepath.Join("..", "..", "..", "shared", "fixtures", "original-service", "schema.sql")
	if _, err := os.Stat(dump); err != nil {
		return nil
	}
	dsn := pgtest.NewDB(t)
	pgtest.LoadServiceDump(t, dsn, dump)
	return adoptDSN(t, dsn)
}

// serviceLikePools are the databases laid out as the service's: the
// project's two fixtures always, the service's own dump where present.
func serviceLikePools() []struct {
	name string
	open func(*testing.T) *pgxpool.Pool
} {
	return []struct {
		name string
		open func(*testing.T) *pgxpool.Pool
	}{
		{"service layout", servicePool},
		{"service fixture", fixturePool},
		{"service dump", serviceDumpPool},
	}
}

// payloadOf renders records in the service's ingest format.
func payloadOf(t *testing.T, recs []engine.Record) io.Reader {
	t.Helper()
	var buf bytes.Buffer
	if err := engine.EncodePayload(&buf, recs); err != nil {
		t.Fatal(err)
	}
	return &buf
}

// mixedRecords generates n valid, distinct records of kinds every
// service-like layout has, for the users given.
func mixedRecords(t *testing.T, users []engine.UUID, n int) []engine.Record {
	t.Helper()
	g, err := engine.NewGenerator(engine.GenConfig{Seed: 11, UserIDs: users, End: time.Now().UTC().Truncate(time.Hour),
		Types: []engine.Kind{engine.KindHeartRate, engine.KindBloodPressure, engine.KindSleep, engine.KindWorkout}})
	if err != nil {
		t.Fatal(err)
	}
	recs := make([]engine.Record, n)
	for i := range recs {
		recs[i] = g.Next().Record
	}
	return recs
}

func userCount(t *testing.T, pool *pgxpool.Pool) int64 {
	t.Helper()
	var n int64
	if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM users").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestUnknownUserPayload: a payload naming a user the service's users table
// does not hold is not a way into it. Without CreateUsers its records are
// rejected as "unknown user", counted and stored with that reason, and no
// user is added; with CreateUsers the user is added and named.
func TestUnknownUserPayload(t *testing.T) {
	for _, db := range serviceLikePools() {
		for _, create := range []bool{false, true} {
			name := db.name + "/reject"
			if create {
				name = db.name + "/create-users"
			}
			t.Run(name, func(t *testing.T) {
				pool := db.open(t)
				if pool == nil {
					t.Skip("the service's dump (../shared/fixtures/original-service) is not beside the project")
				}
				unknownUserPayload(t, pool, create)
			})
		}
	}
}

func unknownUserPayload(t *testing.T, pool *pgxpool.Pool, create bool) {
	ctx := context.Background()
	var known engine.UUID
	if err := pool.QueryRow(ctx, "INSERT INTO users (email) VALUES ('known@example.com') RETURNING id").Scan((*[16]byte)(&known)); err != nil {
		t.Fatal(err)
	}
	unknown := engine.UUID{0x0d, 0xba, 0x0f, 0xf1, 0xce, 0, 0x40, 0, 0x80}
	const n = 400
	recs := mixedRecords(t, []engine.UUID{known, unknown}, n)
	var ofUnknown int64
	var positions []int64 // in the payload
	for i, r := range recs {
		if r.UserID() == unknown {
			ofUnknown++
			positions = append(positions, int64(i))
		}
	}
	in, err := openWith(t, pool, ingest.Options{Target: ingest.Live, CreateUsers: create})
	if err != nil {
		t.Fatal(err)
	}
	if err := ingest.RunFile(ctx, in, payloadOf(t, recs), 150, nil); err != nil {
		t.Fatal(err)
	}
	tot := in.Totals()
	checkAccounting(t, pool, tot, n)
	if tot.ConstraintFailures != 0 {
		t.Errorf("%d constraint failures: %v", tot.ConstraintFailures, tot.RejectsByReason)
	}
	var stored int64
	var at []int64
	if err := pool.QueryRow(ctx, `SELECT count(*), coalesce(array_agg(record_index ORDER BY record_index), '{}')
		  FROM hmperf.ingest_rejections WHERE run_id = $1 AND reasons ? $2`,
		tot.RunID, ingest.ReasonUnknownUser).Scan(&stored, &at); err != nil {
		t.Fatal(err)
	}
	var exists bool
	if err := pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)", [16]byte(unknown)).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if !create {
		if got := tot.RejectsByReason[ingest.ReasonUnknownUser]; got != ofUnknown || stored != ofUnknown || ofUnknown == 0 {
			t.Errorf("%d records of the unknown user; rejected as unknown user %d, stored %d", ofUnknown, got, stored)
		}
		if !slices.Equal(at, positions) {
			t.Errorf("unknown-user rejections stored at payload positions %v, want %v", at, positions)
		}
		if exists || userCount(t, pool) != 1 || tot.CreatedUsers != nil {
			t.Errorf("a user was added: unknown exists %v, %d users, created %+v", exists, userCount(t, pool), tot.CreatedUsers)
		}
		if tot.Inserted == 0 {
			t.Error("the known user's records were not written")
		}
		return
	}
	if tot.RejectsByReason[ingest.ReasonUnknownUser] != 0 || stored != 0 || !exists {
		t.Errorf("--create-users: rejected %v, user added %v", tot.RejectsByReason, exists)
	}
	if cu := tot.CreatedUsers; cu == nil || !slices.Equal(cu.IDs, []string{unknown.String()}) || cu.Table != "public.users" {
		t.Errorf("created users %+v, want exactly %s in public.users", cu, unknown)
	}
}

// TestSampleDrawsExistingUsers: a sample on the live tables of a
// service-like database writes rows for the users that exist, adds none,
// and the service's CHECKs refuse none of them; with no users at all it is
// refused, naming the table, before anything is written.
func TestSampleDrawsExistingUsers(t *testing.T) {
	for _, db := range serviceLikePools() {
		t.Run(db.name, func(t *testing.T) {
			pool := db.open(t)
			if pool == nil {
				t.Skip("the service's dump (../shared/fixtures/original-service) is not beside the project")
			}
			ctx := context.Background()
			in, err := openIngester(t, pool, ingest.Live)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := in.SampleUsers(ctx); !errors.Is(err, ingest.ErrNoUsers) {
				t.Fatalf("SampleUsers on no users: %v, want ErrNoUsers", err)
			}
			seedUsers(t, pool, 3)
			const n = 3000
			if err := ingest.RunSample(ctx, in, sampleGenerator(t, in), n, 500, nil); err != nil {
				t.Fatal(err)
			}
			tot := in.Totals()
			checkAccounting(t, pool, tot, n)
			if tot.ConstraintFailures != 0 || tot.Inserted < n/2 {
				t.Errorf("inserted %d, %d constraint failures: %v", tot.Inserted, tot.ConstraintFailures, tot.RejectsByReason)
			}
			if got := userCount(t, pool); got != 3 || tot.CreatedUsers != nil || tot.RejectsByReason[ingest.ReasonUnknownUser] != 0 {
				t.Errorf("%d users after the sample (3 before), created %+v, unknown-user rejects %d",
					got, tot.CreatedUsers, tot.RejectsByReason[ingest.ReasonUnknownUser])
			}
			var owners int64
			if err := pool.QueryRow(ctx, "SELECT count(DISTINCT user_id) FROM heart_rate_metrics").Scan(&owners); err != nil || owners != 3 {
				t.Errorf("heart-rate rows belong to %d users (%v), want the 3 that exist", owners, err)
			}
		})
	}
}

// adoptDSN adopts the database at dsn as a DBA would and opens a pool.
func adoptDSN(t testing.TB, dsn string) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	check, err := migrations.CheckAdoption(ctx, conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := migrations.Adopt(ctx, conn, check); err != nil {
		t.Fatal(err)
	}
	m, err := migrations.New(dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Up(); err != nil {
		t.Fatalf("migrate the adopted layout: %v", err)
	}
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}
