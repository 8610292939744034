package alertcheck

import (
	"context"
	"sync"

	"hmperf/cmd/internal/dbtarget"
	"hmperf/queries/monitor"
)

// Check checks every target at once, so that servers that do not answer
// cost one connect timeout together, and closes them.
func Check(ctx context.Context, targets []dbtarget.Named) []Server {
	results := make([]Server, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Go(func() {
			defer t.Close()
			role, alerts, err := readAlerts(ctx, t.Target)
			results[i] = Result(t.Name, role, alerts, err)
		})
	}
	wg.Wait()
	return results
}

// readAlerts reads t's role and firing alerts. Read-only: two SELECTs (in
// embedded mode it first applies the migrations to its own server).
func readAlerts(ctx context.Context, t *dbtarget.Target) (role string, alerts []monitor.Alert, err error) {
	if t.Embedded() {
		if err := t.MigrateEmbedded(ctx); err != nil {
			return "", nil, err
		}
	}
	conn, err := t.Connect(ctx)
	if err != nil {
		return "", nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return Read(ctx, conn, t.Describe())
}
