package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"hmperf/cmd/internal/oncallcmd"
	"hmperf/tui"
	"hmperf/tui/recording"
)

// replayOpts are the flags of replay.
type replayOpts struct {
	globals
	at string
}

func (o *replayOpts) flags(fs *pflag.FlagSet) {
	fs.StringVar(&o.at, "at", "", "start at this recorded time (15:04[:05] UTC on the first day, or RFC 3339)")
}

func runReplay(ctx context.Context, e env, o *replayOpts, files []string) error {
	at := o.at
	if len(files) == 0 {
		return fmt.Errorf("%w: replay needs a recording: hmperf replay FILE [FILE.1 ...] [--at T]", errUsage)
	}
	records, err := oncallcmd.ReadRecordings(e.stderr, files)
	if err != nil {
		return err
	}
	h, _, _, err := recording.ReadFile(files[0])
	if err != nil {
		return err
	}
	p, err := recording.NewPlayer(h, records)
	if err != nil {
		return fmt.Errorf("%s: %w", files[0], err)
	}
	if at != "" {
		if err := p.Jump(at); err != nil {
			return fmt.Errorf("%w: --at: %v", errUsage, err)
		}
	}
	p.Run(time.Now)
	interval := h.Interval
	if interval <= 0 {
		interval = tui.DefaultInterval
	}
	return tui.Run(ctx, p, tui.Options{Interval: interval, Clock: p.Now, Replay: p, Procs: procsSetter()})
}
