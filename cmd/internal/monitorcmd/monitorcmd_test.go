package monitorcmd

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"hmperf/cmd/internal/dbtarget"
	"hmperf/queries/monitor"
	"hmperf/queries/pgtest"
)

// TestRunOnce: on a migrated database the first stored sample is a
// baseline; read-only samples in memory, says why on Err, and --once
// prints the sample that follows its baseline, not the baseline.
func TestRunOnce(t *testing.T) {
	dsn := pgtest.NewMigratedDB(t)
	ctx := context.Background()
	for _, c := range []struct {
		name      string
		readOnly  bool
		wantErr   string
		wantState string
	}{
		{"stored", false, "", monitor.SampleBaseline},
		{"read-only", true, "--read-only: nothing is written", monitor.SampleTaken},
	} {
		tgt, err := dbtarget.New(dsn, dbtarget.Settings{Command: "hmperf monitor", ReadOnly: c.readOnly, LockTimeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		err = Run(ctx, tgt, Options{Out: &out, Err: &errOut, Once: true, JSON: true, ReadOnly: c.readOnly, Interval: 100 * time.Millisecond})
		var doc monitor.SampleResult
		if err != nil || json.Unmarshal(out.Bytes(), &doc) != nil {
			t.Fatalf("%s: %v, stdout %q, stderr %q", c.name, err, out.String(), errOut.String())
		}
		if doc.Status != c.wantState || !strings.Contains(errOut.String(), c.wantErr) || (c.wantErr == "") != (errOut.Len() == 0) {
			t.Errorf("%s: status %q, stderr %q; want %q and %q", c.name, doc.Status, errOut.String(), c.wantState, c.wantErr)
		}
	}
}
