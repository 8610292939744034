package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"hmperf/tui/recording"
	"hmperf/tui/source"
)

// recordFlags are the dashboard's recording flags.
type recordFlags struct {
	path  string
	off   bool
	maxMB int
}

func (r *recordFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&r.path, "record", "", "append every poll to this recording (default $XDG_STATE_HOME/hmperf/dashboard.hmrec)")
	fs.BoolVar(&r.off, "no-record", false, "do not record the session")
	fs.IntVar(&r.maxMB, "record-max-mb", recording.DefaultMaxBytes>>20,
		fmt.Sprintf("rotate the recording past this many MiB (%d older files are kept)", recording.DefaultKeep))
}

// startRecording starts recording p every interval in its own goroutine
// and returns the function that stops it, waits for it and closes the
// file. With --no-record it records nothing; when the default file cannot
// be opened it says so and records nothing, when --record's cannot it
// fails.
func startRecording(ctx context.Context, rf recordFlags, p source.Poller, interval time.Duration, stderr io.Writer) (stop func(), err error) {
	if rf.off {
		return func() {}, nil
	}
	path := rf.path
	if path == "" {
		path, err = recording.DefaultPath()
	}
	var w *recording.Writer
	if err == nil {
		w, err = recording.Create(path, recording.Header{Started: time.Now().UTC(), Hmperf: version, Interval: interval,
			Servers: p.ServerNames()}, int64(rf.maxMB)<<20, recording.DefaultKeep)
	}
	switch {
	case err != nil && rf.path != "":
		return nil, err
	case err != nil:
		// On-call opens the dashboard when something is wrong: a state
		// directory it cannot write must not keep it closed.
		fmt.Fprintf(stderr, "hmperf: not recording this session: %v (--record FILE records elsewhere)\n", err)
		return func() {}, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var runErr error
	wg.Go(func() {
		runErr = recording.Recorder{Source: p, Writer: w, Interval: interval}.Run(ctx)
	})
	return func() {
		cancel()
		wg.Wait()
		if err := w.Close(); err != nil && runErr == nil {
			runErr = err
		}
		if runErr != nil {
			fmt.Fprintf(stderr, "hmperf: the recording %s stopped: %v\n", path, runErr)
		}
	}, nil
}

// allBut names every global flag but keep, for a command that takes only
// those.
func allBut(keep ...string) []string {
	var out []string
	for _, name := range allGlobals() {
		if !slices.Contains(keep, name) {
			out = append(out, name)
		}
	}
	return out
}
