package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/queries/pgtest"
)

// ingestJSON is the part of `hmperf ingest --json` the tests read.
type ingestJSON struct {
	Received        int64                       `json:"received"`
	Inserted        int64                       `json:"inserted"`
	Duplicates      int64                       `json:"duplicates"`
	Rejected        int64                       `json:"rejected"`
	Unsupported     int64                       `json:"unsupported"`
	ByType          map[string]map[string]int64 `json:"by_type"`
	RejectsByReason map[string]int64            `json:"rejects_by_reason"`
	DurationMs      *float64                    `json:"duration_ms"`
	RowsPerSecond   *float64                    `json:"rows_per_second"`
	ByFamily        map[string]int64            `json:"duplicates_by_family"`
	Legacy          map[string]int64            `json:"legacy_dedup_stats"`
	MissingTables   map[string]int64            `json:"missing_tables"`
	FKCheck         struct {
		Batch  []string `json:"per_batch_tables"`
		Reason string   `json:"per_row_reason"`
	} `json:"foreign_key_check"`
}

func decodeIngest(t *testing.T, r result) ingestJSON {
	t.Helper()
	var out ingestJSON
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("stdout is not the JSON document: %v\n%s\nstderr: %s", err, r.stdout, r.stderr)
	}
	if out.Inserted+out.Duplicates+out.Rejected+out.Unsupported != out.Received {
		t.Errorf("does not add up: %+v", out)
	}
	if out.DurationMs == nil || out.RowsPerSecond == nil || out.ByType == nil || out.RejectsByReason == nil {
		t.Errorf("missing fields in %s", r.stdout)
	}
	return out
}

func TestIngestSampleJSON(t *testing.T) {
	dsn := pgtest.NewMigratedDB(t)
	r := runCmd(context.Background(), "", "ingest", "--dsn", dsn, "--sample", "3000", "--seed", "5",
		"--dup-rate", "0.1", "--invalid-rate", "0.05", "--batch-size", "500", "--json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	out := decodeIngest(t, r)
	if out.Received != 3000 || out.Duplicates == 0 || out.Rejected == 0 || len(out.RejectsByReason) == 0 {
		t.Errorf("unexpected totals %+v", out)
	}
	if got := tableRows(t, dsn); got != out.Inserted {
		t.Errorf("rows in tables %d, inserted %d", got, out.Inserted)
	}
	checkDedupViews(t, out)
	var super bool
	queryRow(t, dsn, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user", &super)
	if super && (len(out.FKCheck.Batch) != 7 || out.FKCheck.Reason != "") {
		t.Errorf("foreign_key_check %+v: want all seven tables per batch for a superuser", out.FKCheck)
	}
	again := decodeIngest(t, runCmd(context.Background(), "", "ingest", "--dsn", dsn, "--sample", "3000", "--seed", "5",
		"--dup-rate", "0.1", "--invalid-rate", "0.05", "--batch-size", "500", "--row-fk-checks", "--json"))
	if again.Inserted != 0 || again.Duplicates != out.Inserted+out.Duplicates {
		t.Errorf("second identical ingest: %+v", again)
	}
	if len(again.FKCheck.Batch) != 0 || !strings.Contains(again.FKCheck.Reason, "per-row checks requested") {
		t.Errorf("--row-fk-checks: foreign_key_check %+v", again.FKCheck)
	}
}

// checkDedupViews: the per-family and legacy views count every duplicate
// once: families sum to the total, and each legacy counter is its own
// table's count (the legacy code gave heart rate and blood pressure both the
// cardiovascular total).
func checkDedupViews(t *testing.T, out ingestJSON) {
	t.Helper()
	var families int64
	for _, n := range out.ByFamily {
		families += n
	}
	if families != out.Duplicates || out.Legacy["total_duplicates"] != out.Duplicates {
		t.Errorf("duplicates %d, by family %v (sum %d), legacy total %d", out.Duplicates, out.ByFamily, families, out.Legacy["total_duplicates"])
	}
	for legacy, table := range map[string]string{"heart_rate_duplicates": "heart_rate_metrics",
		"blood_pressure_duplicates": "blood_pressure_metrics", "activity_duplicates": "activity_metrics_v2",
		"workout_duplicates": "workouts", "nutrition_duplicates": "nutrition_metrics"} {
		if got, want := out.Legacy[legacy], out.ByType[table]["duplicates"]; got != want {
			t.Errorf("legacy %s = %d, table %s has %d duplicates", legacy, got, table, want)
		}
	}
	if cv := out.ByFamily["cardiovascular"]; cv != out.Legacy["heart_rate_duplicates"]+out.Legacy["blood_pressure_duplicates"] {
		t.Errorf("cardiovascular %d != heart rate + blood pressure", cv)
	}
}

func TestIngestRefusals(t *testing.T) {
	for _, args := range [][]string{
		{"ingest"},
		{"ingest", "--sample", "10", "--file", "x.json"},
		{"ingest", "--sample", "10", "--context", "nowhere"},
		{"ingest", "--sample", "10", "--types", "weather"},
		{"ingest", "--sample", "10", "--read-only", "--dsn", "host=127.0.0.1 port=1"},
	} {
		r := runCmd(context.Background(), "", args...)
		if r.code == 0 || !strings.Contains(r.stderr, "hmperf: ") {
			t.Errorf("%v: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
}

// TestIngestSIGKILLLeavesWholeBatches kills a running ingest and checks
// that the tables hold exactly the rows the stored batch stats account for.
func TestIngestSIGKILLLeavesWholeBatches(t *testing.T) {
	dsn := pgtest.NewMigratedDB(t)
	cmd := exec.Command(binPath, "ingest", "--dsn", dsn, "--sample", "5000000", "--batch-size", "2000", "--json")
	cmd.Env = cleanEnv()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for batchCount(t, dsn) < 5 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("no batches committed within 60 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-done
	var stored int64
	queryRow(t, dsn, "SELECT coalesce(sum(inserted), 0) FROM hmperf.ingest_batch_stats", &stored)
	if got := tableRows(t, dsn); got != stored || stored == 0 {
		t.Errorf("after SIGKILL: %d rows in the tables, %d inserted per the stored batch stats", got, stored)
	}
}

// payloadFile writes a payload in the ingest service's format.
func payloadFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "payload.json")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const testUser = "b479a3b9-9ef1-4a82-9771-adff57432e18"

func heartRate(at string, bpm string) string {
	return fmt.Sprintf(`{"type": "HeartRate", "user_id": %q, "recorded_at": %q, "heart_rate": %s, "source_device": "watch"}`, testUser, at, bpm)
}

func TestIngestFileBadInput(t *testing.T) {
	good := heartRate("2025-09-09T05:06:07Z", "72")
	bigString := `{"type": "HeartRate", "user_id": "` + testUser + `", "recorded_at": "2025-09-09T07:00:00Z", "heart_rate": 70, "source_device": "` + strings.Repeat("x", 10<<20) + `"}`
	cases := []struct {
		name             string
		body             string
		wantExit         bool // a file-level error: non-zero exit
		received, insert int64
	}{
		{"empty file", "", true, 0, 0},
		{"null", "null", true, 0, 0},
		{"truncated after one record", `{"data": {"metrics": [` + good + `, {"type": "Heart`, true, 1, 1},
		{"wrong JSON types", `{"data": {"metrics": [` + heartRate("2025-09-09T05:07:07Z", `"fast"`) + `, ` + good + `]}}`, false, 2, 1},
		{"NaN as string", `{"data": {"metrics": [` + heartRate("2025-09-09T05:08:07Z", `"NaN"`) + `]}}`, false, 1, 0},
		{"1e308", `{"data": {"metrics": [` + heartRate("2025-09-09T05:09:07Z", `1e308`) + `]}}`, false, 1, 0},
		{"negative zero", `{"data": {"metrics": [` + heartRate("2025-09-09T05:10:07Z", `-0`) + `]}}`, false, 1, 0},
		{"unknown type", `{"data": {"metrics": [{"type": "Weather", "recorded_at": "2025-09-09T05:06:07Z"}, ` + good + `]}}`, false, 2, 1},
		{"missing recorded_at", `{"data": {"metrics": [{"type": "HeartRate", "user_id": "` + testUser + `", "heart_rate": 70}]}}`, false, 1, 0},
		{"odd timestamp zone", `{"data": {"metrics": [` + heartRate("2025-09-09 05:11:07 +0530", "70") + `, ` + heartRate("09/09/2025 05:12", "70") + `]}}`, false, 2, 1},
		{"10 MB string", `{"data": {"metrics": [` + bigString + `]}}`, false, 1, 0},
		{"file ends inside a 5 MB string", `{"data": {"metrics": [` + good + `, {"type": "HeartRate", "notes": "` + strings.Repeat("x", 5<<20), true, 1, 1},
		{"30 MB of whitespace", `{"data": {"metrics": [` + strings.Repeat(" ", 30<<20) + good + `]}}`, false, 1, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dsn := pgtest.NewMigratedDB(t)
			r := runCmd(context.Background(), "", "ingest", "--dsn", dsn, "--file", payloadFile(t, tc.body), "--json")
			if (r.code != 0) != tc.wantExit {
				t.Fatalf("exit %d, want error %v; stderr %q", r.code, tc.wantExit, r.stderr)
			}
			if tc.wantExit && (strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 || !strings.Contains(r.stderr, "payload")) {
				t.Errorf("want one line naming the payload fault, got %q", r.stderr)
			}
			out := decodeIngest(t, r)
			if out.Received != tc.received || out.Inserted != tc.insert {
				t.Errorf("received %d inserted %d, want %d and %d (%+v)", out.Received, out.Inserted, tc.received, tc.insert, out)
			}
			if got := tableRows(t, dsn); got != out.Inserted {
				t.Errorf("rows in tables %d, inserted %d", got, out.Inserted)
			}
			var rejections int64
			queryRow(t, dsn, "SELECT count(*) FROM hmperf.ingest_rejections", &rejections)
			if rejections != out.Rejected {
				t.Errorf("stored rejections %d, rejected %d", rejections, out.Rejected)
			}
		})
	}
}

// TestIngestSharedFixtures imports the ingest service's sample payloads,
// where the shared folder beside the project is present.
func TestIngestSharedFixtures(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "..", "shared", "fixtures", "*.json"))
	if len(files) == 0 {
		t.Skip("no ../shared/fixtures beside the project")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			dsn := pgtest.NewMigratedDB(t)
			out := decodeIngest(t, runCmd(context.Background(), "", "ingest", "--dsn", dsn, "--file", f, "--json"))
			if want := countPayloadRecords(t, f); out.Received != want {
				t.Errorf("received %d of %d records", out.Received, want)
			}
			if got := tableRows(t, dsn); got != out.Inserted {
				t.Errorf("rows in tables %d, inserted %d", got, out.Inserted)
			}
		})
	}
}

func countPayloadRecords(t *testing.T, path string) int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Data map[string][]json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, arr := range doc.Data {
		n += int64(len(arr))
	}
	return n
}

var metricTables = []string{"heart_rate_metrics", "blood_pressure_metrics", "sleep_metrics", "workouts",
	"activity_metrics_v2", "nutrition_metrics", "symptoms"}

func tableRows(t *testing.T, dsn string) int64 {
	t.Helper()
	var total int64
	for _, tbl := range metricTables {
		var n int64
		queryRow(t, dsn, "SELECT count(*) FROM "+pgx.Identifier{tbl}.Sanitize(), &n)
		total += n
	}
	return total
}

func batchCount(t *testing.T, dsn string) int64 {
	t.Helper()
	var n int64
	queryRow(t, dsn, "SELECT count(DISTINCT batch_no) FROM hmperf.ingest_batch_stats", &n)
	return n
}
