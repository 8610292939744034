// Package alertcheck is what `hmperf alerts` answers, as monitoring plugins
// do: each server's status and exit code from its firing alerts (UNKNOWN
// when they cannot be read), the worst of a set, and the status lines and
// tables it prints.
package alertcheck

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"hmperf/cmd/internal/dashsource"
	"hmperf/queries"
	"hmperf/queries/monitor"
)

// Exit statuses of `hmperf alerts`, as monitoring plugins use them.
const (
	OK       = 0
	Warning  = 1
	Critical = 2
	Unknown  = 3
)

// Status names each exit status.
var Status = [...]string{"OK", "WARNING", "CRITICAL", "UNKNOWN"}

// rank orders the exit statuses from best to worst: a CRITICAL
// server outweighs one that cannot be read, which outweighs a WARNING.
var rank = [...]int{OK: 0, Warning: 1, Unknown: 2, Critical: 3}

// Result is one server's result: its alerts, or why they could not be read.
func Result(name, role string, alerts []monitor.Alert, err error) Server {
	r := Server{Name: name, Role: role, Alerts: []monitor.Alert{}}
	if err != nil {
		r.ExitCode, r.Error, r.Err = Unknown, err.Error(), err
	} else {
		if alerts != nil {
			r.Alerts = alerts
		}
		switch monitor.Worst(alerts) {
		case monitor.Critical:
			r.ExitCode = Critical
		case monitor.Warning:
			r.ExitCode = Warning
		}
	}
	r.Status = Status[r.ExitCode]
	return r
}

// Doc is the --json document. Status, exit code and alerts cover
// every server (with one server, exactly its own); servers has one result
// per server, in command-line order.
type Doc struct {
	Status   string          `json:"status"`
	ExitCode int             `json:"exit_code"`
	Alerts   []monitor.Alert `json:"alerts"`
	Error    string          `json:"error,omitempty"`
	Servers  []Server        `json:"servers"`
}

// Server is one server's result.
type Server struct {
	Name string `json:"name"`
	// Role is "primary" or "replica" (pg_is_in_recovery()), "" when the
	// server could not be asked.
	Role     string          `json:"role,omitempty"`
	Status   string          `json:"status"`
	ExitCode int             `json:"exit_code"`
	Alerts   []monitor.Alert `json:"alerts"`
	Error    string          `json:"error,omitempty"`
	// Err is why the alerts could not be read; Error says it in the
	// document.
	Err error `json:"-"`
}

// Summarize makes the document of a set of results: the worst status, every
// alert, and the reasons of the servers that could not be read.
func Summarize(results []Server) Doc {
	doc := Doc{Alerts: []monitor.Alert{}, Servers: results}
	var errs []string
	for _, r := range results {
		if rank[r.ExitCode] > rank[doc.ExitCode] {
			doc.ExitCode = r.ExitCode
		}
		doc.Alerts = append(doc.Alerts, r.Alerts...)
		switch {
		case r.Err == nil:
		case len(results) == 1:
			errs = append(errs, r.Error)
		default:
			errs = append(errs, r.Name+": "+r.Error)
		}
	}
	doc.Status = Status[doc.ExitCode]
	doc.Error = strings.Join(errs, "; ")
	return doc
}

// PrintFleet prints the worst status and each server's on one line, as a
// monitoring plugin's status line, then each server's result.
func PrintFleet(w io.Writer, doc Doc) {
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
		PrintServer(w, r)
	}
}

// PrintServer prints one server's status line and its alerts.
func PrintServer(w io.Writer, r Server) {
	if r.Err != nil {
		fmt.Fprintf(w, "UNKNOWN: %s\n", r.Error)
		return
	}
	printAlerts(w, r.ExitCode, r.Alerts)
}

// printAlerts prints the status line and a table of the alerts.
func printAlerts(w io.Writer, code int, alerts []monitor.Alert) {
	if len(alerts) == 0 {
		fmt.Fprintln(w, "OK: no alerts")
		return
	}
	noun := "alerts"
	if len(alerts) == 1 {
		noun = "alert"
	}
	fmt.Fprintf(w, "%s: %d %s\n", Status[code], len(alerts), noun)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "severity\talert\ttable\tobserved\tthreshold\tfiring since\tmessage")
	for _, a := range alerts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f\t%g\t%s\t%s\n", a.Severity, a.Name, a.Table, a.Observed, a.Threshold,
			a.FiringSince.UTC().Format(time.RFC3339), a.Message)
	}
	tw.Flush()
}

// Read asks db's server (named server in errors) its role, "primary" or
// "replica", and its firing alerts. An error reading the alerts is worded
// as the dashboard's header words it: what is missing, and the fix.
func Read(ctx context.Context, db queries.DBTX, server string) (role string, alerts []monitor.Alert, err error) {
	replica, err := queries.IsReplica(ctx, db)
	if err != nil {
		return "", nil, fmt.Errorf("ask %s for its role: %w", server, err)
	}
	role = "primary"
	if replica {
		role = "replica"
	}
	alerts, err = monitor.Alerts(ctx, db)
	return role, alerts, dashsource.Explain(ctx, db, err)
}

// UnknownDoc is the document of a check that could not run at all: status
// UNKNOWN, cause the reason.
func UnknownDoc(cause error) Doc {
	return Doc{Status: Status[Unknown], ExitCode: Unknown, Alerts: []monitor.Alert{}, Error: cause.Error(), Servers: []Server{}}
}
