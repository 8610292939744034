package main

import (
	"io"

	"hmperf/queries/lockwait"
)

// lockPolicy is how a step of this target that locks the service's tables
// retries after its lock_timeout fired: for --lock-wait in all, one line
// per retry to log (nil for none: the dashboard owns the terminal).
// --lock-wait 0 means no retry: the step stops at its first timeout.
func (t *target) lockPolicy(log io.Writer) lockwait.Policy {
	budget := t.lockWait
	if budget <= 0 {
		budget = -1
	}
	return lockwait.Policy{Budget: budget, Log: log}
}
