package tui

// idleProcs is how many Ps (GOMAXPROCS) the dashboard runs on while no job
// runs. Idle, it wakes up a dozen times a second (frames, polls, the
// recording) to do little each time; with a second P, every wake-up also
// wakes an idle P that spins looking for work, which cost a tenth to a
// quarter of an idle dashboard's CPU on a 2-core machine (docs/oncall.md).
// A job (benchmark, sample ingest, index build, migration) gets every P
// back.
const idleProcs = 1

// procs sets the Ps to what the jobs in progress need.
type procs struct {
	// set is runtime.GOMAXPROCS (its argument 0 only asks); nil leaves
	// the process's setting alone.
	set func(n int) int
	// busy is what a job gets: what the process had when the dashboard
	// started.
	busy int
}

// newProcs is the procs of a dashboard started with set (nil: none).
func newProcs(set func(int) int) procs {
	if set == nil {
		return procs{}
	}
	return procs{set: set, busy: set(0)}
}

// fit runs the process on every P while a job runs, on idleProcs else.
func (p procs) fit(jobRunning bool) {
	if p.set == nil {
		return
	}
	want := idleProcs
	if jobRunning {
		want = p.busy
	}
	if p.set(0) != want {
		p.set(want)
	}
}

// restore gives the process back the Ps it started with.
func (p procs) restore() { p.fit(true) }
