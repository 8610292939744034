package alertcheck

import (
	"context"
	"testing"
	"time"

	"hmperf/cmd/internal/dbtarget"
	"hmperf/queries/pgtest"
)

// TestCheck: every target is checked and keeps its place: a migrated
// primary with nothing firing is OK, a server that does not answer is
// UNKNOWN with the reason.
func TestCheck(t *testing.T) {
	dsn := pgtest.NewMigratedDB(t)
	s := dbtarget.Settings{Command: "hmperf alerts", ReadOnly: true, ConnectTimeout: 2 * time.Second}
	var targets []dbtarget.Named
	for _, n := range []struct{ name, dsn string }{
		{"up", dsn},
		{"down", "postgres://nobody@127.0.0.1:1/none?sslmode=disable"},
	} {
		tgt, err := dbtarget.New(n.dsn, s)
		if err != nil {
			t.Fatal(err)
		}
		targets = append(targets, dbtarget.Named{Name: n.name, Target: tgt})
	}
	got := Check(context.Background(), targets)
	if len(got) != 2 || got[0].Name != "up" || got[0].ExitCode != OK || got[0].Role != "primary" ||
		got[1].Name != "down" || got[1].ExitCode != Unknown || got[1].Error == "" {
		t.Errorf("Check: %+v", got)
	}
}
