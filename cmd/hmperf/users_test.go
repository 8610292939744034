package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"hmperf/engine"
)

// createdJSON is the part of `hmperf ingest --json` about users and CHECKs.
type createdJSON struct {
	ConstraintFailures int64 `json:"constraint_failures"`
	CreatedUsers       *struct {
		Table string   `json:"table"`
		IDs   []string `json:"ids"`
	} `json:"created_users"`
	UnknownChecks []struct {
		Table, Name, Definition string
	} `json:"unknown_checks"`
}

func decodeCreated(t *testing.T, r result) createdJSON {
	t.Helper()
	var out createdJSON
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("stdout is not the JSON document: %v\n%s", err, r.stdout)
	}
	return out
}

// generatedPayload writes a payload of n generated records (heart rate,
// sleep, workouts) owned by users, in the service's format, and returns
// its path and how many records each user has.
func generatedPayload(t *testing.T, users []engine.UUID, n int) (string, map[engine.UUID]int64) {
	t.Helper()
	g, err := engine.NewGenerator(engine.GenConfig{Seed: 21, UserIDs: users, End: time.Now().UTC().Truncate(time.Hour),
		Types: []engine.Kind{engine.KindHeartRate, engine.KindSleep, engine.KindWorkout}})
	if err != nil {
		t.Fatal(err)
	}
	recs := make([]engine.Record, n)
	per := map[engine.UUID]int64{}
	for i := range recs {
		recs[i] = g.Next().Record
		per[recs[i].UserID()]++
	}
	p := filepath.Join(t.TempDir(), "payload.json")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := engine.EncodePayload(f, recs); err != nil {
		t.Fatal(err)
	}
	return p, per
}

func knownUser(t *testing.T, dsn string) engine.UUID {
	t.Helper()
	var id string
	queryRow(t, dsn, "INSERT INTO users (email) VALUES ('known@example.com') RETURNING id::text", &id)
	u, err := engine.ParseUUID(id)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestIngestFileUnknownUser: on the service's database a payload naming a
// user it does not have adds no user: its records are rejected as
// "unknown user" and counted; --create-users adds the user and names it,
// in the text report and in --json.
func TestIngestFileUnknownUser(t *testing.T) {
	dsn := serviceDSN(t, true)
	ctx := context.Background()
	known := knownUser(t, dsn)
	stranger := engine.UUID{0x5e, 0x1f, 0, 0, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0, 1}
	file, per := generatedPayload(t, []engine.UUID{known, stranger}, 300)

	out := decodeIngest(t, runCmd(ctx, "", "ingest", "--dsn", dsn, "--file", file, "--json"))
	if got := out.RejectsByReason["unknown user"]; got != per[stranger] || got == 0 || out.Inserted != per[known] {
		t.Errorf("unknown user: rejected %d of the stranger's %d records, inserted %d of the known user's %d",
			got, per[stranger], out.Inserted, per[known])
	}
	if n := rowCount(t, dsn, "public.users"); n != 1 {
		t.Errorf("%d users after the import, want the 1 that existed", n)
	}

	file, _ = generatedPayload(t, []engine.UUID{stranger}, 50)
	r := runCmd(ctx, "", "ingest", "--dsn", dsn, "--file", file, "--create-users")
	if want := "created 1 users in public.users: " + stranger.String(); r.code != 0 || !strings.Contains(r.stdout, want) {
		t.Fatalf("exit %d, stdout %q; want %q", r.code, r.stdout, want)
	}
	another := engine.UUID{0x5e, 0x1f, 0, 0, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0, 2}
	file, _ = generatedPayload(t, []engine.UUID{stranger, another}, 50)
	cu := decodeCreated(t, runCmd(ctx, "", "ingest", "--dsn", dsn, "--file", file, "--create-users", "--json")).CreatedUsers
	if cu == nil || cu.Table != "public.users" || !slices.Equal(cu.IDs, []string{another.String()}) {
		t.Errorf("--json created_users %+v, want only %s in public.users", cu, another)
	}
}

// TestIngestSampleLiveUsers: a sample on the live tables of the service's
// database refuses in one line while it has no users, naming the ways out;
// with users it draws from them, adds none, and the service's CHECKs
// refuse nothing.
func TestIngestSampleLiveUsers(t *testing.T) {
	dsn := serviceDSN(t, true)
	ctx := context.Background()
	r := runCmd(ctx, "", "ingest", "--dsn", dsn, "--sample", "500", "--target", "live")
	if r.code == 0 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 ||
		!strings.Contains(r.stderr, "--create-users") || !strings.Contains(r.stderr, "sandbox") || !strings.Contains(r.stderr, "public.users") {
		t.Fatalf("exit %d, stderr %q: want one line naming public.users, --create-users and the sandbox", r.code, r.stderr)
	}
	execSQL(t, dsn, "INSERT INTO users (email) SELECT 'user-' || g || '@example.com' FROM generate_series(1, 4) g")
	r = runCmd(ctx, "", "ingest", "--dsn", dsn, "--sample", "2000", "--batch-size", "500", "--target", "live", "--json")
	out, created := decodeIngest(t, r), decodeCreated(t, r)
	if out.Inserted == 0 || created.ConstraintFailures != 0 || created.CreatedUsers != nil || out.RejectsByReason["unknown user"] != 0 {
		t.Errorf("inserted %d, constraint failures %d, created %+v, rejects %v", out.Inserted, created.ConstraintFailures,
			created.CreatedUsers, out.RejectsByReason)
	}
	if n := rowCount(t, dsn, "public.users"); n != 4 {
		t.Errorf("%d users after the sample, want the 4 that existed", n)
	}
}

// TestIngestNamesUnknownCheck: a CHECK of the live tables the validator
// cannot enforce is named on stderr, one line with table, name and
// definition, and listed in --json.
func TestIngestNamesUnknownCheck(t *testing.T) {
	dsn := serviceDSN(t, true)
	execSQL(t, dsn, "ALTER TABLE heart_rate_metrics ADD CONSTRAINT hr_not_from_tests CHECK (source_device IS NULL OR source_device <> 'test-rig')")
	known := knownUser(t, dsn)
	file, _ := generatedPayload(t, []engine.UUID{known}, 50)
	r := runCmd(context.Background(), "", "ingest", "--dsn", dsn, "--file", file, "--json")
	var line string
	for _, l := range strings.Split(r.stderr, "\n") {
		if strings.Contains(l, "hr_not_from_tests") {
			line = l
		}
	}
	if r.code != 0 || !strings.Contains(line, "unknown CHECK on public.heart_rate_metrics") || !strings.Contains(line, "test-rig") {
		t.Fatalf("exit %d, stderr %q: want a line naming the CHECK with its table and definition", r.code, r.stderr)
	}
	if u := decodeCreated(t, r).UnknownChecks; len(u) != 1 || u[0].Name != "hr_not_from_tests" || u[0].Table != "public.heart_rate_metrics" {
		t.Errorf("--json unknown_checks %+v", u)
	}
}
