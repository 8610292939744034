package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"hmperf/cmd/internal/alertcheck"
	"hmperf/cmd/internal/cmdout"
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
	results := alertcheck.Check(ctx, targets)
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
