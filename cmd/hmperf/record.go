package main

import (
	"fmt"
	"slices"

	"github.com/spf13/pflag"

	"hmperf/cmd/internal/oncallcmd"
	"hmperf/tui/recording"
)

// registerRecording registers the dashboard's recording flags into r.
func registerRecording(fs *pflag.FlagSet, r *oncallcmd.Recording) {
	fs.StringVar(&r.Path, "record", "", "append every poll to this recording (default $XDG_STATE_HOME/hmperf/dashboard.hmrec)")
	fs.BoolVar(&r.Off, "no-record", false, "do not record the session")
	fs.IntVar(&r.MaxMB, "record-max-mb", recording.DefaultMaxBytes>>20,
		fmt.Sprintf("rotate the recording past this many MiB (%d older files are kept)", recording.DefaultKeep))
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
