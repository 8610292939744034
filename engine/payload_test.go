package engine

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

type decodeResult struct {
	sum   DecodeSummary
	recs  []Record
	errs  []string
	ferr  error
	calls int
}

func decodeString(t testing.TB, s string, opts DecodeOptions) decodeResult {
	t.Helper()
	return decodeFrom(strings.NewReader(s), opts, MaxValueBytes, maxSpaceBytes)
}

// decodeFrom decodes r with the value cap limit and the whitespace cap
// space, collecting the records and the errors.
func decodeFrom(r io.Reader, opts DecodeOptions, limit, space int) decodeResult {
	var res decodeResult
	res.sum, res.ferr = decodeCapped(newCapReader(r, limit, space), opts, func(b []Decoded) error {
		res.calls++
		for _, d := range b {
			if d.Err != nil {
				res.errs = append(res.errs, d.Err.Error())
			} else {
				res.recs = append(res.recs, d.Record)
			}
		}
		return nil
	})
	return res
}

const hrOK = `{"type":"HeartRate","user_id":"b479a3b9-9ef1-4a82-9771-adff57432e18","recorded_at":"2025-09-09T05:06:07Z","heart_rate":60,"source_device":"Watch"}`

func payload(records ...string) string {
	return `{"data":{"metrics":[` + strings.Join(records, ",") + `],"workouts":[]}}`
}

func hrWith(field, value string) string {
	var m map[string]json.RawMessage
	_ = json.Unmarshal([]byte(hrOK), &m)
	if value == "" {
		delete(m, field)
	} else {
		m[field] = json.RawMessage(value)
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func TestDecodeRecordErrors(t *testing.T) {
	tests := []struct {
		name   string
		record string
		want   string // substring of the one-line error; "" means accepted
	}{
		{"ok", hrOK, ""},
		{"missing recorded_at", hrWith("recorded_at", ""), "record 0 (metrics[0], HeartRate): recorded_at: missing"},
		{"missing heart_rate", hrWith("heart_rate", ""), "heart_rate: missing"},
		{"string for number", hrWith("heart_rate", `"60"`), `heart_rate: want a number, got string "60"`},
		{"NaN string", hrWith("heart_rate_variability", `"NaN"`), `heart_rate_variability: want a number, got string "NaN"`},
		{"object for number", hrWith("heart_rate", `{"v":1}`), "heart_rate: want a number, got object"},
		{"fractional int", hrWith("heart_rate", `60.5`), "heart_rate: want a whole number, got 60.5"},
		{"integral float ok", hrWith("heart_rate", `60.0`), ""},
		{"1e308 int", hrWith("heart_rate", `1e308`), "out of range for an integer column"},
		{"1e400 float", hrWith("heart_rate_variability", `1e400`), "heart_rate_variability: number 1e400 out of range"},
		{"negative zero ok", hrWith("heart_rate_variability", `-0`), ""},
		{"apple health time ok", hrWith("recorded_at", `"2025-09-09 05:06:07 -0700"`), ""},
		{"rfc3339 offset fraction ok", hrWith("recorded_at", `"2025-09-09T05:06:07.123456+05:30"`), ""},
		{"odd time", hrWith("recorded_at", `"09/09/2025 05:06"`), `recorded_at: unrecognized timestamp "09/09/2025 05:06"`},
		{"time as number", hrWith("recorded_at", `1757394367`), "recorded_at: want a timestamp string, got number"},
		{"bad uuid", hrWith("user_id", `"nope"`), `user_id: invalid uuid "nope"`},
		{"missing user", hrWith("user_id", ""), "user_id: missing"},
		{"long source", hrWith("source_device", `"`+strings.Repeat("x", 100<<10)+`"`), "source_device: string of 102400 bytes exceeds the 64 KiB limit"},
		{"huge source", hrWith("source_device", `"`+strings.Repeat("x", 10<<20)+`"`), `value over the size limit (member "source_device": a string of 10485760 bytes; the limit is 1024 KiB)`},
		{"huge number", hrWith("heart_rate", "1"+strings.Repeat("0", 2<<20)), `value over the size limit (member "heart_rate": a number of 2097153 bytes`},
		{"huge unused member", hrWith("id", `"`+strings.Repeat(`\"`, 1<<20)+`"`), `member "id": a string of 2097152 bytes`},
		{"huge name", `{"type":"HeartRate","` + strings.Repeat("k", 2<<20) + `":1}`, "member name over the size limit (a name of 2097152 bytes"},
		{"huge type tag", `{"type":"` + strings.Repeat("T", 2<<20) + `"}`, "type: type tag of 2097152 bytes"},
		{"many members", `{"type":"HeartRate",` + strings.Repeat(`"k":"`+strings.Repeat("v", 1000)+`",`, 2000) + `"z":1}`, "record over the size limit (more than 1024 KiB of members)"},
		{"long string array", `{"type":"Symptom","triggers":[` + strings.Repeat(`"`+strings.Repeat("v", 1000)+`",`, 2000) + `"z"]}`, "record over the size limit"},
		{"missing type", `{"heart_rate":60}`, "record 0 (metrics[0]): type: missing type tag"},
		{"numeric type", `{"type":7}`, "type: want a string type tag, got number"},
		{"not an object", `[1,2]`, "record 0 (metrics[0]): want an object, got array"},
		{"null element", `null`, "want an object, got null"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := decodeString(t, payload(tt.record, hrWith("recorded_at", `"2025-09-10T00:00:00Z"`)), DecodeOptions{})
			if res.ferr != nil {
				t.Fatalf("file error: %v", res.ferr)
			}
			if res.sum.Received != 2 || res.sum.Received != res.sum.Decoded+res.sum.Rejected {
				t.Fatalf("summary %+v", res.sum)
			}
			if tt.want == "" {
				if len(res.errs) != 0 {
					t.Fatalf("rejected: %v", res.errs)
				}
				return
			}
			// The bad record is rejected and the next one still decodes.
			if len(res.errs) != 1 || !strings.Contains(res.errs[0], tt.want) || len(res.recs) != 1 {
				t.Fatalf("errors %q, want one containing %q", res.errs, tt.want)
			}
			if strings.Contains(res.errs[0], "\n") || len(res.errs[0]) > 300 {
				t.Errorf("error is not a short one-liner: %d bytes", len(res.errs[0]))
			}
		})
	}
}

// TestDecodeLenientAsTheService: duplicate member names (the first is used)
// and invalid UTF-8 (read as U+FFFD) are accepted, as the ingest service's
// decoder accepted them.
func TestDecodeLenientAsTheService(t *testing.T) {
	dup := `{"type":"HeartRate","user_id":"b479a3b9-9ef1-4a82-9771-adff57432e18","recorded_at":"2025-09-09T05:06:07Z","heart_rate":70,"heart_rate":80}`
	badUTF8 := strings.Replace(hrOK, `"type":"HeartRate"`, `"type":"HeartRate","source_device":"a`+"\xff"+`b"`, 1)
	res := decodeString(t, payload(dup, badUTF8), DecodeOptions{})
	if res.ferr != nil || len(res.errs) != 0 || len(res.recs) != 2 {
		t.Fatalf("file error %v, record errors %q, %d records", res.ferr, res.errs, len(res.recs))
	}
	if hr := res.recs[0].(*HeartRate); hr.HeartRate != 70 {
		t.Errorf("duplicate heart_rate: got %d, want the first, 70", hr.HeartRate)
	}
	if hr := res.recs[1].(*HeartRate); hr.Source != "a\uFFFDb" {
		t.Errorf("invalid UTF-8 read as %q, want %q", hr.Source, "a\uFFFDb")
	}
}

func TestDecodeFileErrors(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		want     string
		received int
	}{
		{"empty", "", "empty file", 0},
		{"null", "null", "JSON null", 0},
		{"array", "[]", "is a JSON array", 0},
		{"no data", `{"other":1}`, `no "data" member`, 0},
		{"truncated", payload(hrOK, hrOK)[:len(payload(hrOK, hrOK))-40], "at byte", 1},
		{"truncated mid-record", `{"data":{"metrics":[` + hrOK + `,{"type":"Heart`, "unexpected EOF", 1},
		{"syntax", `{"data":{"metrics":[` + hrOK + `,{"type" "x"}]}}`, "malformed JSON at byte", 1},
		{"trailing", payload(hrOK) + `{}`, "trailing data", 1},
		{"too deep", `{"data":{"metrics":[` + hrOK + `,` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `]}}`, "exceeded max depth", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := decodeString(t, tt.in, DecodeOptions{})
			if res.ferr == nil || !strings.Contains(res.ferr.Error(), tt.want) {
				t.Fatalf("error %v, want %q", res.ferr, tt.want)
			}
			if len(res.recs) != tt.received {
				t.Errorf("%d records yielded before the error, want %d", len(res.recs), tt.received)
			}
		})
	}
}

func TestDecodeUnsupportedAndArrays(t *testing.T) {
	in := `{"data":{"metrics":[` + hrOK + `,{"type":"BodyMeasurement"},{"type":"Environmental","x":[1,{"a":2}]},{"type":"BodyMeasurement"}],
	"workouts":[{"user_id":"b479a3b9-9ef1-4a82-9771-adff57432e18","workout_type":"running","started_at":"2025-09-09T05:00:00Z","ended_at":"2025-09-09T06:00:00Z","distance_meters":1000}],
	"symptom_metrics":[{"recorded_at":"2025-09-09T05:00:00Z","symptom_type":"fever","triggers":["heat"],"treatments":["rest",1]}],
	"mobility_metrics":[{},{}]}}`
	res := decodeString(t, in, DecodeOptions{DefaultUser: testUser})
	if res.ferr != nil {
		t.Fatal(res.ferr)
	}
	want := map[string]int{"BodyMeasurement": 2, "Environmental": 1, "mobility_metrics": 2}
	for k, v := range want {
		if res.sum.Unsupported[k] != v {
			t.Errorf("unsupported %v, want %v", res.sum.Unsupported, want)
		}
	}
	if res.sum.Received != 8 || res.sum.Decoded != 2 || res.sum.Rejected != 1 {
		t.Errorf("summary %+v errors %v", res.sum, res.errs)
	}
	if len(res.errs) != 1 || !strings.Contains(res.errs[0], "treatments: want an array of strings") {
		t.Errorf("errors %v", res.errs)
	}
}

func TestDecodeBatchesAndCallbackError(t *testing.T) {
	recs := make([]string, 25)
	for i := range recs {
		recs[i] = hrOK
	}
	res := decodeString(t, payload(recs...), DecodeOptions{BatchSize: 10})
	if res.calls != 3 || len(res.recs) != 25 {
		t.Errorf("%d calls %d records", res.calls, len(res.recs))
	}
	stop := errors.New("stop")
	_, err := DecodePayload(strings.NewReader(payload(recs...)), DecodeOptions{BatchSize: 10}, func([]Decoded) error { return stop })
	if !errors.Is(err, stop) {
		t.Errorf("callback error %v", err)
	}
}

// TestDecodeActivityFieldNames checks the service's Activity names map to
// the activity_metrics_v2 columns.
func TestDecodeActivityFieldNames(t *testing.T) {
	in := payload(`{"type":"Activity","user_id":"b479a3b9-9ef1-4a82-9771-adff57432e18","recorded_at":"2025-09-09T12:00:00Z",
	"step_count":1200,"distance_meters":900.5,"apple_exercise_time_minutes":10,"apple_stand_time_minutes":5,
	"apple_move_time_minutes":12,"apple_stand_hour_achieved":true,"nike_fuel_points":42.5,"source_device":"Phone"}`)
	res := decodeString(t, in, DecodeOptions{})
	if len(res.recs) != 1 {
		t.Fatal(res.errs, res.ferr)
	}
	a := res.recs[0].(*Activity)
	checks := map[int]float64{ActStepCount: 1200, ActDistanceWalkingRunning: 900.5, ActExerciseTime: 10,
		ActStandTime: 5, ActMoveTime: 12, ActNikeFuel: 42.5}
	for i, want := range checks {
		if v, ok := a.Get(i); !ok || v != want {
			t.Errorf("%s = %v, %v; want %v", activityColumns[i].Name, v, ok, want)
		}
	}
	if !a.StandHourAchieved || a.Source != "Phone" {
		t.Errorf("stand %v source %q", a.StandHourAchieved, a.Source)
	}
	vals := a.AppendValues(nil)
	if len(vals) != len(a.Columns()) || vals[len(vals)-2] != "hourly" {
		t.Errorf("values %v", vals)
	}
}

func fixturesDir() string {
	if d := os.Getenv("HMPERF_SHARED"); d != "" {
		return filepath.Join(d, "fixtures")
	}
	return filepath.Join("..", "..", "shared", "fixtures")
}

// TestDecodeFixtures decodes the service's real payloads: every record is
// decoded, rejected or unsupported, and decoded records validate.
func TestDecodeFixtures(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(fixturesDir(), "*.json"))
	if len(files) == 0 {
		t.Skip("fixtures folder absent: set HMPERF_SHARED")
	}
	rs := DefaultRules()
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Data map[string][]json.RawMessage `json:"data"`
			}
			if err := json.Unmarshal(raw, &doc); err != nil {
				t.Fatal(err)
			}
			total := 0
			for _, arr := range doc.Data {
				total += len(arr)
			}
			res := decodeString(t, string(raw), DecodeOptions{BatchSize: 7})
			if res.ferr != nil || len(res.errs) != 0 {
				t.Fatalf("file error %v, record errors %v", res.ferr, res.errs)
			}
			unsupported := 0
			for _, n := range res.sum.Unsupported {
				unsupported += n
			}
			if res.sum.Received != total || res.sum.Decoded+res.sum.Rejected+unsupported != total {
				t.Errorf("summary %+v does not account for %d records", res.sum, total)
			}
			for _, r := range res.recs {
				if vs := rs.Validate(r, nil); len(vs) != 0 {
					t.Errorf("%s invalid: %v", r.Kind(), vs)
				}
			}
		})
	}
}

// BenchmarkDecode decodes a generated-style payload of 10,000 heart-rate
// and activity records.
func BenchmarkDecode(b *testing.B) {
	recs := make([]string, 10000)
	act := `{"type":"Activity","user_id":"b479a3b9-9ef1-4a82-9771-adff57432e18","recorded_at":"2025-09-09T12:04:33Z","step_count":120,"distance_meters":90.5,"flights_climbed":0,"source_device":"Phone"}`
	for i := range recs {
		recs[i] = hrOK
		if i%2 == 1 {
			recs[i] = act
		}
	}
	in := payload(recs...)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		_, err := DecodePayload(strings.NewReader(in), DecodeOptions{}, func([]Decoded) error { return nil })
		if err != nil && err != io.EOF {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(recs))/b.Elapsed().Seconds(), "records/s")
}

// TestDecodeMemoryBounded streams payloads of 20k and 200k records through a
// pipe: the peak heap while decoding must not grow with the file.
func TestDecodeMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 200k records")
	}
	peak := func(n int) uint64 {
		pr, pw := io.Pipe()
		go func() {
			_, _ = io.WriteString(pw, `{"data":{"metrics":[`)
			for i := range n {
				if i > 0 {
					_, _ = io.WriteString(pw, ",")
				}
				_, _ = io.WriteString(pw, hrOK)
			}
			_, _ = io.WriteString(pw, `]}}`)
			_ = pw.Close()
		}()
		var max uint64
		calls := 0
		_, err := DecodePayload(pr, DecodeOptions{BatchSize: 1000}, func([]Decoded) error {
			if calls++; calls%20 == 0 {
				var ms runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&ms)
				max = maxU(max, ms.HeapAlloc)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return max
	}
	small, large := peak(20_000), peak(200_000)
	if large > small+4<<20 {
		t.Errorf("peak heap %d B for 200k records vs %d B for 20k: grows with the file", large, small)
	}
}

func maxU(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}
