package oncallcmd

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"hmperf/tui/recording"
	"hmperf/tui/source"
)

// Recording is what the dashboard's recording flags asked for.
type Recording struct {
	Path  string // --record; empty for the default path
	Off   bool   // --no-record
	MaxMB int    // --record-max-mb
}

// Start starts recording p every interval in its own goroutine and
// returns the function that stops it, waits for it and closes the file;
// version is hmperf's, for the header. With Off it records nothing; when
// the default file cannot be opened it says so and records nothing, when
// Path's cannot it fails.
func (rf Recording) Start(ctx context.Context, p source.Poller, interval time.Duration, version string, stderr io.Writer) (stop func(), err error) {
	if rf.Off {
		return func() {}, nil
	}
	path := rf.Path
	if path == "" {
		path, err = recording.DefaultPath()
	}
	var w *recording.Writer
	if err == nil {
		w, err = recording.Create(path, recording.Header{Started: time.Now().UTC(), Hmperf: version, Interval: interval,
			Servers: p.ServerNames()}, int64(rf.MaxMB)<<20, recording.DefaultKeep)
	}
	switch {
	case err != nil && rf.Path != "":
		return nil, err
	case err != nil:
		// On-call opens the dashboard when something is wrong: a state
		// directory it cannot write must not keep it closed.
		fmt.Fprintf(stderr, "hmperf: not recording this session: %v (--record FILE records elsewhere)\n", err)
		return func() {}, nil
	}
	return run(ctx, recording.Recorder{Source: p, Writer: w, Interval: interval}, path, stderr), nil
}

// run runs r in a goroutine until the returned stop cancels it; stop waits
// for it, closes the file and reports how it ended on stderr.
func run(ctx context.Context, r recording.Recorder, path string, stderr io.Writer) func() {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var runErr error
	wg.Go(func() { runErr = r.Run(ctx) })
	return func() {
		cancel()
		wg.Wait()
		if err := r.Writer.Close(); err != nil && runErr == nil {
			runErr = err
		}
		if runErr != nil {
			fmt.Fprintf(stderr, "hmperf: the recording %s stopped: %v\n", path, runErr)
		}
	}
}
