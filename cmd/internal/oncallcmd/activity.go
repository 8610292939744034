// Package oncallcmd is what the on-call commands (activity, report, replay
// and the dashboard's recording) do once their command lines are parsed:
// print the lock tree and the recording's summary for people, read and
// order recordings, and set up the dashboard's recording.
package oncallcmd

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"hmperf/queries/activity"
)

// Activity prints the lock tree (every root with the sessions waiting
// behind it, a waiter under each of its blockers), then the other
// sessions, the xmin holder and the progress of maintenance.
func Activity(w io.Writer, snap activity.Snapshot) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "pid\tuser\tapplication\tclient\tstate\twait\txact age\tquery age\tquery")
	byPID := map[int]activity.Session{}
	for _, s := range snap.Sessions {
		byPID[s.PID] = s
	}
	waiters := activity.Waiters(snap.Sessions)
	shown := map[int]bool{}
	for _, r := range snap.Roots {
		printBranch(tw, byPID, waiters, r.PID, 0, map[int]bool{}, shown)
	}
	for _, s := range snap.Sessions {
		if !shown[s.PID] {
			printSession(tw, s, 0)
		}
	}
	tw.Flush()
	if h := snap.XminHolder; h != nil {
		fmt.Fprintf(w, "\noldest xmin held by %s %s: %d transactions old%s\n", h.Kind, h.ID, h.XidAge, ageSuffix(h.AgeSeconds))
	}
	for _, p := range snap.Progress {
		pct := "?"
		if p.Percent != nil {
			pct = fmt.Sprintf("%.1f%%", *p.Percent)
		}
		fmt.Fprintf(w, "progress: pid %d %s %s %s: %s (%d of %d %s)\n", p.PID, p.Command, p.Relation, p.Phase, pct, p.Done, p.Total, p.Unit)
	}
}

// printBranch prints pid and, indented, everyone waiting for it; path
// stops a cycle from recursing.
func printBranch(tw io.Writer, byPID map[int]activity.Session, waiters map[int][]int, pid, depth int, path, shown map[int]bool) {
	s, ok := byPID[pid]
	if !ok {
		s = activity.Session{PID: pid, State: "not a session (prepared transaction?)", Root: true}
	}
	printSession(tw, s, depth)
	shown[pid], path[pid] = true, true
	for _, w := range waiters[pid] {
		if !path[w] {
			printBranch(tw, byPID, waiters, w, depth+1, path, shown)
		}
	}
	delete(path, pid)
}

// printSession prints one row of the tree, indented by depth.
func printSession(tw io.Writer, s activity.Session, depth int) {
	pid := strings.Repeat("  ", depth) + strconv.Itoa(s.PID)
	switch {
	case s.Root:
		pid += fmt.Sprintf(" ROOT (holds up %d)", s.HoldsUp)
	case depth > 0:
		pid = strings.Repeat("  ", depth-1) + "└ " + strconv.Itoa(s.PID)
	}
	state := s.State
	if s.IdleInTransaction() {
		state = strings.ToUpper(state)
	}
	wait := strings.Trim(s.WaitEventType+"/"+s.WaitEvent, "/")
	if s.LockWaitSeconds != nil {
		wait += fmt.Sprintf(" %.0fs", *s.LockWaitSeconds)
	}
	fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", pid, s.User, s.ApplicationName, s.Client, state, wait,
		seconds(s.XactAgeSeconds), seconds(s.QueryAgeSeconds), s.Query)
}

// seconds is v in whole seconds, or "-" when unknown.
func seconds(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.0fs", *v)
}

// ageSuffix says how long the xmin holder has been open, when known.
func ageSuffix(v *float64) string {
	if v == nil {
		return ""
	}
	return fmt.Sprintf(", open %.0fs", *v)
}
