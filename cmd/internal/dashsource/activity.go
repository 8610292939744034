package dashsource

import (
	"context"
	"time"

	"hmperf/queries"
	"hmperf/queries/activity"
	"hmperf/tui/source"
)

// Activity reads the sessions of the server the poll is for.
func (f *Fleet) Activity(ctx context.Context) (source.Activity, error) {
	s := f.shown(ctx)
	return s.polls.activity.get(ctx, func() (source.Activity, error) { return s.Activity(ctx) })
}

// Activity reads the server's sessions, lock tree, xmin holder and
// progress. Cancel and terminate make sense only on a primary that this
// dashboard may write to.
func (s *DB) Activity(ctx context.Context) (_ source.Activity, err error) {
	defer s.explain(ctx, &err)
	snap, err := s.sessions.Read(ctx, s.pool)
	if err != nil {
		return source.Activity{}, err
	}
	replica, err := s.isReplica(ctx)
	if err != nil {
		return source.Activity{}, err
	}
	a := toSourceActivity(snap)
	a.CanSignal = !replica && !s.ReadOnly()
	return a, nil
}

// toSourceActivity copies a reading into the dashboard's own types.
func toSourceActivity(snap activity.Snapshot) source.Activity {
	a := source.Activity{At: snap.At}
	for _, s := range snap.Sessions {
		a.Sessions = append(a.Sessions, source.Session{PID: s.PID, BackendStart: s.BackendStart, Database: s.Database,
			User: s.User, ApplicationName: s.ApplicationName, Client: s.Client, BackendType: s.BackendType, State: s.State,
			WaitEventType: s.WaitEventType, WaitEvent: s.WaitEvent, XactAge: s.XactAgeSeconds, QueryAge: s.QueryAgeSeconds,
			LockWait: s.LockWaitSeconds, Query: s.Query, BlockedBy: s.BlockedBy, Root: s.Root, HoldsUp: s.HoldsUp,
			XminAge: s.XminAge, IdleInTransaction: s.IdleInTransaction()})
	}
	for _, r := range snap.Roots {
		a.Roots = append(a.Roots, source.LockRoot{PID: r.PID, HoldsUp: r.HoldsUp})
	}
	if h := snap.XminHolder; h != nil {
		a.XminHolder = &source.XminHolder{Kind: h.Kind, ID: h.ID, State: h.State, XidAge: h.XidAge, AgeSeconds: h.AgeSeconds}
	}
	for _, p := range snap.Progress {
		a.Progress = append(a.Progress, source.Progress{PID: p.PID, Command: p.Command, Relation: p.Relation, Phase: p.Phase,
			Unit: p.Unit, Done: p.Done, Total: p.Total, Percent: p.Percent})
	}
	return a
}

// CancelSession cancels the query of session pid (started at start) on the
// server the poll context names.
func (f *Fleet) CancelSession(ctx context.Context, pid int, start time.Time) error {
	return f.shown(ctx).signal(ctx, activity.Cancel, pid, start)
}

// TerminateSession ends session pid (started at start) on the server the
// context names.
func (f *Fleet) TerminateSession(ctx context.Context, pid int, start time.Time) error {
	return f.shown(ctx).signal(ctx, activity.Terminate, pid, start)
}

// signal sends a signal where this dashboard may write: not with
// --read-only, not on a replica.
func (s *DB) signal(ctx context.Context, do func(context.Context, queries.DBTX, int, time.Time) error, pid int, start time.Time) error {
	if err := s.writable(ctx); err != nil {
		return err
	}
	return do(ctx, s.pool, pid, start)
}
