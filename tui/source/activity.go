package source

import (
	"context"
	"time"
)

// ActivityPoller reads what the server's sessions are doing. It is apart
// from Poller so that a source without it (a recording of an older
// version, a test fake) still drives the other panels.
type ActivityPoller interface {
	Activity(ctx context.Context) (Activity, error)
}

// SessionSignaller cancels a session's query or ends the session, on the
// server the context names (WithServer); start tells the process from a
// later one given the same pid. It is apart from Actions so that a source
// without it (a recording) still drives the dashboard.
type SessionSignaller interface {
	CancelSession(ctx context.Context, pid int, start time.Time) error
	TerminateSession(ctx context.Context, pid int, start time.Time) error
}

// Activity is one reading of the server's sessions: their lock tree, the
// oldest xmin holder and running maintenance.
type Activity struct {
	At       time.Time
	Sessions []Session
	Roots    []LockRoot
	// XminHolder is nil when nothing holds an xmin back.
	XminHolder *XminHolder
	Progress   []Progress
	// CanSignal is false where cancel and terminate make no sense (a
	// replica, where the service does not write).
	CanSignal bool
}

// Session is one server process. Ages are seconds, nil where the session
// has no transaction, no query or no lock wait.
type Session struct {
	PID                             int
	BackendStart                    time.Time
	Database, User, ApplicationName string
	Client, BackendType, State      string
	WaitEventType, WaitEvent        string
	XactAge, QueryAge, LockWait     *float64
	Query                           string // its first line, passwords masked
	BlockedBy                       []int  // every pid blocking it
	Root                            bool   // blocks others, waits for none
	HoldsUp                         int    // sessions waiting behind it, transitively
	XminAge                         *int64
	IdleInTransaction               bool
}

// LockRoot is a session that blocks others and waits for none.
type LockRoot struct {
	PID, HoldsUp int
}

// XminHolder is the session, replication slot or prepared transaction
// holding back the oldest xmin.
type XminHolder struct {
	Kind, ID, State string
	XidAge          int64
	AgeSeconds      *float64
}

// Progress is one running VACUUM, CREATE INDEX, COPY, ANALYZE or base
// backup; Percent is nil when its total is not known.
type Progress struct {
	PID                            int
	Command, Relation, Phase, Unit string
	Done, Total                    int64
	Percent                        *float64
}
