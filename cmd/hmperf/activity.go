package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"hmperf/cmd/internal/cmdout"
	"hmperf/queries/activity"
)

func runActivity(ctx context.Context, e env, o *noFlags, args []string) error {
	cf, asJSON := o.conn, o.json
	if len(args) > 0 {
		return fmt.Errorf("%w: activity takes no arguments (got %q)", errUsage, args[0])
	}
	t, err := resolveTarget(ctx, cf, e.stderr)
	if err != nil {
		return err
	}
	defer t.Close()
	conn, err := t.Connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	snap, err := activity.Read(ctx, conn)
	if err != nil {
		return t.DescribeError(err)
	}
	if asJSON {
		return cmdout.JSON(e.stdout, snap)
	}
	printActivity(e.stdout, snap)
	return nil
}

// printActivity prints the lock tree (every root with the sessions waiting
// behind it, a waiter under each of its blockers), then the other
// sessions, the xmin holder and the progress of maintenance.
func printActivity(w io.Writer, snap activity.Snapshot) {
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

func seconds(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.0fs", *v)
}

func ageSuffix(v *float64) string {
	if v == nil {
		return ""
	}
	return fmt.Sprintf(", open %.0fs", *v)
}
