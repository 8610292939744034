package tui

import (
	"time"

	"hmperf/tui/recording"
)

// Limits and defaults of the refresh interval and the query timeout.
const (
	MinInterval     = 500 * time.Millisecond
	MaxInterval     = 10 * time.Second
	DefaultInterval = 2 * time.Second
	DefaultTimeout  = 5 * time.Second
)

// Options configure the dashboard. The zero value is usable.
type Options struct {
	// Clock tells the time for "stale since", export file names and query
	// durations; tests fix it. Default time.Now.
	Clock func() time.Time
	// Interval is the initial refresh interval, clamped to
	// [MinInterval, MaxInterval]. Default DefaultInterval.
	Interval time.Duration
	// QueryTimeout bounds every poll. Default DefaultTimeout.
	QueryTimeout time.Duration
	// ExportDir is where e writes CSV files. Default the working directory.
	ExportDir string
	// Panel is the panel shown first, by its position in the tab bar.
	// Default the first.
	Panel Panel
	// IngestRunning says a sample ingest was started before the dashboard
	// (the embedded mode starts one), so the Ingest panel shows it running,
	// i stops it, and quitting asks first.
	IngestRunning bool
	// Replay, when set, is the recording being played: the header shows
	// REPLAY and its recorded time, space, ←/→, +/- and g drive it
	// instead of the polling, and every write key says why it is off.
	Replay *recording.Player
	// Procs, when set, is runtime.GOMAXPROCS: the dashboard then runs on
	// one P while no job runs (see idleProcs). Nil leaves the process's
	// setting alone, as a GOMAXPROCS in the environment should.
	Procs func(n int) int
}

// withDefaults fills in what o leaves zero.
func (o Options) withDefaults() Options {
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Interval == 0 {
		o.Interval = DefaultInterval
	}
	o.Interval = min(max(o.Interval, MinInterval), MaxInterval)
	if o.QueryTimeout <= 0 {
		o.QueryTimeout = DefaultTimeout
	}
	if o.ExportDir == "" {
		o.ExportDir = "."
	}
	return o
}
