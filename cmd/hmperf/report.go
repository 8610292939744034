package main

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"

	"hmperf/cmd/internal/cmdout"
	"hmperf/cmd/internal/oncallcmd"
)

// reportOpts are the flags of report.
type reportOpts struct {
	globals
	from, to string
}

func (o *reportOpts) flags(fs *pflag.FlagSet) {
	fs.StringVar(&o.from, "from", "", "start of the window (RFC 3339, e.g. 2026-12-06T02:00:00Z, or 15:04 / 15:04:05 on the recording's first day, UTC)")
	fs.StringVar(&o.to, "to", "", "end of the window (as --from)")
}

func runReport(_ context.Context, e env, o *reportOpts, files []string) error {
	if len(files) == 0 {
		return fmt.Errorf("%w: report needs a recording: hmperf report FILE [FILE.1 ...] [--from T] [--to T] [--json]", errUsage)
	}
	rep, err := oncallcmd.Window(e.stderr, files, o.from, o.to)
	if err != nil {
		return err
	}
	if o.json {
		return cmdout.JSON(e.stdout, rep)
	}
	oncallcmd.Report(e.stdout, rep)
	return nil
}
