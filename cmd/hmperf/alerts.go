package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"hmperf/cmd/internal/alertcheck"
	"hmperf/cmd/internal/cmdout"
	"hmperf/queries/monitor"
)

func runAlerts(ctx context.Context, e env, o *noFlags, args []string) error {
	cf, asJSON := o.conn, o.json
	if len(args) > 0 {
		return fmt.Errorf("%w: alerts takes no arguments (got %q)", errUsage, args[0])
	}
	targets, err := resolveTargets(ctx, cf, e.stderr)
	if errors.Is(err, errUsage) {
		return err
	}
	if err != nil {
		return unknownAlerts(e.stdout, asJSON, err)
	}
	results := checkServers(ctx, targets)
	doc := alertcheck.Summarize(results)
	if asJSON {
		err = cmdout.JSON(e.stdout, doc)
	} else if len(results) == 1 {
		alertcheck.PrintServer(e.stdout, results[0])
	} else {
		alertcheck.PrintFleet(e.stdout, doc)
	}
	if err != nil || doc.ExitCode == alertcheck.OK {
		return err
	}
	// The status line already said it all; the reasons a server is
	// UNKNOWN go to stderr too.
	return &exitError{Code: doc.ExitCode, Err: errors.New(doc.Error)}
}

// checkServers checks every target at once, so that servers that do not
// answer cost one connect timeout together, and closes them.
func checkServers(ctx context.Context, targets []namedTarget) []alertcheck.Server {
	results := make([]alertcheck.Server, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Go(func() {
			defer t.Close()
			results[i] = checkServer(ctx, t)
		})
	}
	wg.Wait()
	return results
}

// checkServer reads one server's role and alerts. Read-only: two SELECTs
// (in embedded mode it first applies the migrations to its own server).
func checkServer(ctx context.Context, t namedTarget) alertcheck.Server {
	role, alerts, err := readAlerts(ctx, t.target)
	return alertcheck.Result(t.name, role, alerts, err)
}

// readAlerts reads t's role and firing alerts.
func readAlerts(ctx context.Context, t *target) (role string, alerts []monitor.Alert, err error) {
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
	return alertcheck.Read(ctx, conn, t.Describe())
}

// unknownAlerts reports that the alerts could not be read: status UNKNOWN,
// exit 3, the reason on stdout (the plugin's status line) and on stderr.
func unknownAlerts(stdout io.Writer, asJSON bool, cause error) error {
	if asJSON {
		_ = cmdout.JSON(stdout, alertcheck.UnknownDoc(cause))
	} else {
		fmt.Fprintf(stdout, "UNKNOWN: %s\n", cause)
	}
	return &exitError{Code: alertcheck.Unknown, Err: cause}
}
