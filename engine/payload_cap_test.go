package engine

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"hmperf/internal/streamtest"
)

// Small caps, so that cuts fall at every position of the test values; the
// limit holds a user_id.
const testLimit, testSpace = 40, 8

// readers feeds a payload as it comes: whole, and one byte per read, so
// that every escape and quote falls on a read boundary somewhere.
var readers = map[string]func(string) io.Reader{
	"whole":    func(s string) io.Reader { return strings.NewReader(s) },
	"one byte": func(s string) io.Reader { return iotest.OneByteReader(strings.NewReader(s)) },
}

// TestCapReaderCutsStrings: a string value decodes as it does uncapped, or
// its record is rejected with the value's exact size; the record after it
// always decodes, whatever escapes the string holds and wherever the cut
// falls.
func TestCapReaderCutsStrings(t *testing.T) {
	pieces := []string{`a`, `\"`, `\\`, `\u00e9`, `\n`, `é`, `\ud83d\ude00`}
	for name, reader := range readers {
		for _, piece := range pieces {
			for reps := 0; reps < 3*testLimit; reps++ {
				body := strings.Repeat(piece, reps)
				in := payload(hrWith("source_device", `"`+body+`"`), hrOK)
				got := decodeFrom(reader(in), DecodeOptions{}, testLimit, testSpace)
				want := decodeString(t, in, DecodeOptions{})
				if got.ferr != nil || got.sum.Received != 2 || len(got.recs) == 0 {
					t.Fatalf("%s, %d × %s: %v, %+v", name, reps, piece, got.ferr, got.sum)
				}
				cutMsg := fmt.Sprintf(`"source_device": a string of %d bytes`, len(body))
				switch {
				case len(got.errs) == 0 && len(want.errs) == 0:
					if got.recs[0].(*HeartRate).Source != want.recs[0].(*HeartRate).Source {
						t.Fatalf("%s, %d × %s: source differs", name, reps, piece)
					}
				case len(got.errs) != 1 || !strings.Contains(got.errs[0], cutMsg):
					t.Fatalf("%s, %d × %s: %q, want one containing %s", name, reps, piece, got.errs, cutMsg)
				case len(body)+1 < testLimit: // the opening quote counts
					t.Fatalf("%s: a body of %d bytes was cut", name, len(body))
				}
			}
		}
	}
}

// TestCapReaderCutsAndDrops covers numbers (a cut number is rejected even
// if its dropped tail was malformed) and whitespace runs (dropped, with
// file offsets still right).
func TestCapReaderCutsAndDrops(t *testing.T) {
	space := strings.Repeat(" \n", 100)
	tests := []struct {
		name    string
		in      string
		wantErr string // file error, or a record's; "" means both records decode
	}{
		{"long number", payload(hrWith("heart_rate", "6"+strings.Repeat("0", 4000)), hrOK), `"heart_rate": a number of 4001 bytes`},
		{"long number, malformed tail", `{"data":{"metrics":[{"type":"HeartRate","heart_rate":1` + strings.Repeat("0", 4000) + `e-},` + hrOK + `]}}`, `"heart_rate": a number of 4003 bytes`},
		{"long number ending in e", `{"data":{"metrics":[{"type":"HeartRate","heart_rate":1` + strings.Repeat("0", 40) + "e" + strings.Repeat("1", 4000) + `},` + hrOK + `]}}`, `a number of 4042 bytes`},
		{"whitespace everywhere", `{` + space + `"data"` + space + `:` + space + `{"metrics":[` + space + hrOK + space + `,` + space + hrOK + `]}` + space + `}` + space, ""},
		{"offset after dropped whitespace", `{"data":` + space + `{"metrics":[` + hrOK + `,` + hrOK + `]}}x`, "trailing data after the payload object at byte " + fmt.Sprint(len(`{"data":`+space+`{"metrics":[`+hrOK+`,`+hrOK+`]}}`))},
		{"string never closed", `{"data":{"metrics":[{"type":"` + strings.Repeat("x", 100), "unexpected EOF"},
	}
	for name, reader := range readers {
		for _, tt := range tests {
			t.Run(name+"/"+tt.name, func(t *testing.T) {
				got := decodeFrom(reader(tt.in), DecodeOptions{}, testLimit, testSpace)
				all := append(got.errs, fmt.Sprint(got.ferr))
				switch {
				case tt.wantErr == "" && (got.ferr != nil || len(got.recs) != 2):
					t.Fatalf("%v, %d records, errors %q", got.ferr, len(got.recs), got.errs)
				case tt.wantErr != "" && !strings.Contains(strings.Join(all, "\n"), tt.wantErr):
					t.Fatalf("errors %q, want one containing %q", all, tt.wantErr)
				}
			})
		}
	}
}

// TestDecodeHostileMemory streams hundreds of megabytes that the decoder
// once held whole (one string, one number, whitespace, endless records, a
// batch of fat records, records of an unknown type), generated as they
// are read, and checks the peak heap while decoding and that every record
// is accounted for.
func TestDecodeHostileMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 1.3 GB")
	}
	const mb = 1 << 20
	unknown := `{"type":"Weather","celsius":21.5,"user_id":"b479a3b9-9ef1-4a82-9771-adff57432e18"}`
	tests := []struct {
		name     string
		in       io.Reader
		received int
	}{
		{"300 MB string", streamtest.Wrap(`{"data":{"metrics":[{"type":"HeartRate","notes":"`, streamtest.Repeat(`ab\"`, 300*mb), `"}]}}`), 1},
		{"300 MB number", streamtest.Wrap(`{"data":{"metrics":[{"type":"HeartRate","heart_rate":1`, streamtest.Repeat("0", 300*mb), `}]}}`), 1},
		{"300 MB whitespace", streamtest.Wrap(`{"data":`, streamtest.Repeat(" \r\n\t", 300*mb), `{"metrics":[]}}`), 0},
		{"200 MB of records", streamtest.Wrap(`{"data":{"metrics":[`, streamtest.Records(hrOK, ",", 1_300_000), hrOK+`]}}`), 1_300_001},
		{"200 MB of fat records in one batch", streamtest.Wrap(`{"data":{"metrics":[`, streamtest.Records(fatSymptom, ",", 300), fatSymptom+`]}}`), 301},
		{"3 M unknown records", streamtest.Wrap(`{"data":{"metrics":[`, streamtest.Records(unknown, ",", 3_000_000), unknown+`]}}`), 3_000_001},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sum DecodeSummary
			var err error
			peak := peakHeap(func() {
				sum, err = DecodePayload(tt.in, DecodeOptions{BatchSize: 5000}, func(b []Decoded) error {
					for _, d := range b {
						if d.Err != nil && strings.Contains(tt.name, "fat") {
							return d.Err // the fat records must decode, to be held
						}
					}
					return nil
				})
			})
			if err != nil || sum.Received != tt.received {
				t.Fatalf("%v, received %d, want %d", err, sum.Received, tt.received)
			}
			t.Logf("peak heap %.1f MB", float64(peak)/mb)
			// The heap in use runs to about twice what is live (GOGC):
			// a batch of fat records held whole took 250 MB.
			if peak > 48*mb {
				t.Errorf("peak heap %.1f MB, want under 48 MB", float64(peak)/mb)
			}
		})
	}
}

// fatSymptom is a record that holds 660 KB, all of it in fields the
// decoder keeps: a batch of 5,000 would hold 3.3 GB.
var fatSymptom = `{"type":"Symptom","user_id":"b479a3b9-9ef1-4a82-9771-adff57432e18","recorded_at":"2025-09-09T05:06:07Z",` +
	`"symptom_type":"headache","severity":"mild","notes":"` + strings.Repeat("n", 60<<10) + `","triggers":[` +
	strings.TrimSuffix(strings.Repeat(`"`+strings.Repeat("t", 60<<10)+`",`, 10), ",") + `]}`

// peakHeap runs f and returns the most heap in use while it ran, sampled
// every 5 ms.
func peakHeap(f func()) uint64 {
	runtime.GC()
	var peak uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	f()
	close(done)
	wg.Wait()
	return peak
}

// TestDecodeUnsupportedTagsCollapse: the first MaxUnsupportedTypes
// distinct tags are named, the records of any other count under
// OtherTypes, and every record is counted.
func TestDecodeUnsupportedTagsCollapse(t *testing.T) {
	tests := []struct {
		name      string
		tags      int
		wantNames int
		wantOther int
	}{
		{"under the limit", MaxUnsupportedTypes, MaxUnsupportedTypes, 0},
		{"over the limit", MaxUnsupportedTypes + 5, MaxUnsupportedTypes + 1, 2 * 5},
		{"100,000 tags", 100_000, MaxUnsupportedTypes + 1, 2 * (100_000 - MaxUnsupportedTypes)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var recs []string
			for round := range 2 {
				for i := range tt.tags {
					recs = append(recs, fmt.Sprintf(`{"type":"T%d","round":%d}`, i, round))
				}
			}
			res := decodeString(t, payload(recs...), DecodeOptions{})
			total := 0
			for _, n := range res.sum.Unsupported {
				total += n
			}
			if res.ferr != nil || total != 2*tt.tags || res.sum.Received != total {
				t.Fatalf("%v: %d counted of %d received, want %d", res.ferr, total, res.sum.Received, 2*tt.tags)
			}
			if len(res.sum.Unsupported) != tt.wantNames || res.sum.Unsupported[OtherTypes] != tt.wantOther {
				t.Errorf("%d names, %d other, want %d and %d", len(res.sum.Unsupported), res.sum.Unsupported[OtherTypes], tt.wantNames, tt.wantOther)
			}
		})
	}
}
