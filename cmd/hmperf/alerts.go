package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"hmperf/queries/monitor"
)

// Exit statuses of `hmperf alerts`, as monitoring plugins use them.
const (
	alertsOK       = 0
	alertsWarning  = 1
	alertsCritical = 2
	alertsUnknown  = 3
)

var alertsStatus = [...]string{"OK", "WARNING", "CRITICAL", "UNKNOWN"}

// alertsJSON is the --json document.
type alertsJSON struct {
	Status   string          `json:"status"`
	ExitCode int             `json:"exit_code"`
	Alerts   []monitor.Alert `json:"alerts"`
	Error    string          `json:"error,omitempty"`
}

func runAlerts(ctx context.Context, e env, args []string) error {
	var cf connFlags
	var asJSON bool
	fs := newFlagSet(e, "alerts")
	cf.register(fs)
	fs.BoolVar(&asJSON, "json", false, "print one JSON document")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("%w: alerts takes no arguments (got %q)", errUsage, rest[0])
	}
	alerts, err := readAlerts(ctx, cf, e.stderr)
	if err != nil {
		return unknownAlerts(e.stdout, asJSON, err)
	}
	code := alertsOK
	switch monitor.Worst(alerts) {
	case monitor.Critical:
		code = alertsCritical
	case monitor.Warning:
		code = alertsWarning
	}
	if asJSON {
		err = writeJSON(e.stdout, alertsJSON{Status: alertsStatus[code], ExitCode: code, Alerts: nonNil(alerts)})
	} else {
		printAlerts(e.stdout, code, alerts)
	}
	if err != nil || code == alertsOK {
		return err
	}
	// The status line already said it all: exit with the code, print nothing more.
	return &exitError{code: code, err: errors.New("")}
}

// readAlerts connects and checks the alerts. Read-only: it runs one SELECT
// (in embedded mode it first applies the migrations to its own server).
func readAlerts(ctx context.Context, cf connFlags, stderr io.Writer) ([]monitor.Alert, error) {
	t, err := resolveTarget(ctx, cf, stderr)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	if t.Embedded() {
		if err := migrateEmbedded(ctx, t); err != nil {
			return nil, err
		}
	}
	conn, err := t.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	alerts, err := monitor.Alerts(ctx, conn)
	// The same words as the dashboard's header: what is missing, and the fix.
	return alerts, explain(ctx, conn, err)
}

// unknownAlerts reports that the alerts could not be read: status UNKNOWN,
// exit 3, the reason on stdout (the plugin's status line) and on stderr.
func unknownAlerts(stdout io.Writer, asJSON bool, cause error) error {
	if asJSON {
		_ = writeJSON(stdout, alertsJSON{Status: alertsStatus[alertsUnknown], ExitCode: alertsUnknown, Alerts: []monitor.Alert{}, Error: cause.Error()})
	} else {
		fmt.Fprintf(stdout, "UNKNOWN: %s\n", cause)
	}
	return &exitError{code: alertsUnknown, err: cause}
}

func printAlerts(w io.Writer, code int, alerts []monitor.Alert) {
	if len(alerts) == 0 {
		fmt.Fprintln(w, "OK: no alerts")
		return
	}
	fmt.Fprintf(w, "%s: %d %s\n", alertsStatus[code], len(alerts), plural(len(alerts), "alert", "alerts"))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "severity\talert\ttable\tobserved\tthreshold\tfiring since\tmessage")
	for _, a := range alerts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f\t%g\t%s\t%s\n", a.Severity, a.Name, a.Table, a.Observed, a.Threshold,
			a.FiringSince.UTC().Format(time.RFC3339), a.Message)
	}
	tw.Flush()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
