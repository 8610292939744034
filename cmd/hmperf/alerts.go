package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
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

// alertsRank orders the exit statuses from best to worst: a CRITICAL
// server outweighs one that cannot be read, which outweighs a WARNING.
var alertsRank = [...]int{alertsOK: 0, alertsWarning: 1, alertsUnknown: 2, alertsCritical: 3}

// alertsJSON is the --json document. Status, exit code and alerts cover
// every server (with one server, exactly its own); servers has one result
// per server, in command-line order.
type alertsJSON struct {
	Status   string          `json:"status"`
	ExitCode int             `json:"exit_code"`
	Alerts   []monitor.Alert `json:"alerts"`
	Error    string          `json:"error,omitempty"`
	Servers  []serverAlerts  `json:"servers"`
}

// serverAlerts is one server's result.
type serverAlerts struct {
	Name string `json:"name"`
	// Role is "primary" or "replica" (pg_is_in_recovery()), "" when the
	// server could not be asked.
	Role     string          `json:"role,omitempty"`
	Status   string          `json:"status"`
	ExitCode int             `json:"exit_code"`
	Alerts   []monitor.Alert `json:"alerts"`
	Error    string          `json:"error,omitempty"`
	err      error
}

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
	doc := summarize(results)
	if asJSON {
		err = writeJSON(e.stdout, doc)
	} else if len(results) == 1 {
		printServer(e.stdout, results[0])
	} else {
		printFleet(e.stdout, doc)
	}
	if err != nil || doc.ExitCode == alertsOK {
		return err
	}
	// The status line already said it all; the reasons a server is
	// UNKNOWN go to stderr too.
	return &exitError{code: doc.ExitCode, err: errors.New(doc.Error)}
}

// checkServers checks every target at once, so that servers that do not
// answer cost one connect timeout together, and closes them.
func checkServers(ctx context.Context, targets []namedTarget) []serverAlerts {
	results := make([]serverAlerts, len(targets))
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
func checkServer(ctx context.Context, t namedTarget) serverAlerts {
	r := serverAlerts{Name: t.name, Alerts: []monitor.Alert{}}
	role, alerts, err := readAlerts(ctx, t.target)
	r.Role = role
	if err != nil {
		r.ExitCode, r.Error, r.err = alertsUnknown, err.Error(), err
	} else {
		r.Alerts = nonNil(alerts)
		switch monitor.Worst(alerts) {
		case monitor.Critical:
			r.ExitCode = alertsCritical
		case monitor.Warning:
			r.ExitCode = alertsWarning
		}
	}
	r.Status = alertsStatus[r.ExitCode]
	return r
}

func readAlerts(ctx context.Context, t *target) (role string, alerts []monitor.Alert, err error) {
	if t.Embedded() {
		if err := migrateEmbedded(ctx, t); err != nil {
			return "", nil, err
		}
	}
	conn, err := t.connect(ctx)
	if err != nil {
		return "", nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var replica bool
	if err := conn.QueryRow(ctx, `SELECT pg_is_in_recovery()`).Scan(&replica); err != nil {
		return "", nil, fmt.Errorf("ask %s for its role: %w", t.Describe(), err)
	}
	role = "primary"
	if replica {
		role = "replica"
	}
	alerts, err = monitor.Alerts(ctx, conn)
	// The same words as the dashboard's header: what is missing, and the fix.
	return role, alerts, explain(ctx, conn, err)
}

// summarize makes the document of a set of results: the worst status, every
// alert, and the reasons of the servers that could not be read.
func summarize(results []serverAlerts) alertsJSON {
	doc := alertsJSON{Alerts: []monitor.Alert{}, Servers: results}
	var errs []string
	for _, r := range results {
		if alertsRank[r.ExitCode] > alertsRank[doc.ExitCode] {
			doc.ExitCode = r.ExitCode
		}
		doc.Alerts = append(doc.Alerts, r.Alerts...)
		switch {
		case r.err == nil:
		case len(results) == 1:
			errs = append(errs, r.Error)
		default:
			errs = append(errs, r.Name+": "+r.Error)
		}
	}
	doc.Status = alertsStatus[doc.ExitCode]
	doc.Error = strings.Join(errs, "; ")
	return doc
}

// unknownAlerts reports that the alerts could not be read: status UNKNOWN,
// exit 3, the reason on stdout (the plugin's status line) and on stderr.
func unknownAlerts(stdout io.Writer, asJSON bool, cause error) error {
	if asJSON {
		_ = writeJSON(stdout, alertsJSON{Status: alertsStatus[alertsUnknown], ExitCode: alertsUnknown, Alerts: []monitor.Alert{},
			Error: cause.Error(), Servers: []serverAlerts{}})
	} else {
		fmt.Fprintf(stdout, "UNKNOWN: %s\n", cause)
	}
	return &exitError{code: alertsUnknown, err: cause}
}

// printFleet prints the worst status and each server's on one line, as a
// monitoring plugin's status line, then each server's result.
func printFleet(w io.Writer, doc alertsJSON) {
	parts := make([]string, len(doc.Servers))
	for i, r := range doc.Servers {
		parts[i] = r.Name + " " + r.Status
	}
	fmt.Fprintf(w, "%s: %d servers: %s\n", doc.Status, len(doc.Servers), strings.Join(parts, ", "))
	for _, r := range doc.Servers {
		role := ""
		if r.Role != "" {
			role = " (" + r.Role + ")"
		}
		fmt.Fprintf(w, "\n== %s%s\n", r.Name, role)
		printServer(w, r)
	}
}

// printServer prints one server's status line and its alerts.
func printServer(w io.Writer, r serverAlerts) {
	if r.err != nil {
		fmt.Fprintf(w, "UNKNOWN: %s\n", r.Error)
		return
	}
	printAlerts(w, r.ExitCode, r.Alerts)
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
