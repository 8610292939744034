package main

import (
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"hmperf/tui"
)

// flagRule is what a numeric flag's value must be: want says it in the
// words every refusal uses, ok decides.
type flagRule struct {
	want string
	ok   func(v any) bool
}

// The rules, one per kind of value.
var (
	positiveDuration = flagRule{"a positive duration", func(v any) bool { return v.(time.Duration) > 0 }}
	durationOrZero   = flagRule{"a duration of 0 or more", func(v any) bool { return v.(time.Duration) >= 0 }}
	positiveCount    = flagRule{"a positive count", func(v any) bool { return v.(int) > 0 }}
	countOrZero      = flagRule{"a count of 0 or more", func(v any) bool { return v.(int) >= 0 }}
	positiveNumber   = flagRule{"a positive number", func(v any) bool { return v.(float64) > 0 }}
	shareBelowOne    = flagRule{"a share from 0 up to but not including 1", func(v any) bool { f := v.(float64); return f >= 0 && f < 1 }}
	shareUpToOne     = flagRule{"a share from 0 to 1", func(v any) bool { f := v.(float64); return f >= 0 && f <= 1 }}
	refreshInterval  = flagRule{fmt.Sprintf("a duration from %s to %s", tui.MinInterval, tui.MaxInterval), func(v any) bool {
		d := v.(time.Duration)
		return d >= tui.MinInterval && d <= tui.MaxInterval
	}}
	replicaCount = flagRule{"a count from 0 to 8", func(v any) bool { n := v.(int); return n >= 0 && n <= 8 }}
)

// flagRules holds the rule of every duration and count flag, by name, or by
// "command name" where one name means different things in two commands.
// Zero is refused wherever the code would have read it as "the default"
// or "none" without saying so; it stays where the help gives it a meaning
// (--lock-timeout 0, --lock-wait 0, --limit 0, --bench-reps 0, --replicas 0).
var flagRules = map[string]flagRule{
	"connect-timeout":    positiveDuration,
	"lock-timeout":       durationOrZero,
	"lock-wait":          durationOrZero,
	"max-time":           positiveDuration,
	"backoff":            positiveDuration,
	"dashboard interval": refreshInterval,
	"monitor interval":   positiveDuration,
	"rows":               positiveCount,
	"sample":             positiveCount,
	"batch-size":         positiveCount,
	"bench-rows":         positiveCount,
	"bench-reps":         countOrZero,
	"sample-rate":        positiveCount,
	"limit":              countOrZero,
	"replicas":           replicaCount,
	"record-max-mb":      positiveCount,
	"ci-width":           positiveNumber,
	"dup-rate":           shareBelowOne,
	"invalid-rate":       shareUpToOne,
	"resend-share":       shareBelowOne,
	"keys":               positiveCount,
	"uploads":            positiveCount,
	"batch-rows":         positiveCount,
	"max-lag":            durationOrZero,
	"max-load":           countOrZero,
}

// ruleFor finds the rule of flag name in command ("bench", "dashboard").
func ruleFor(command, name string) (flagRule, bool) {
	if r, ok := flagRules[command+" "+name]; ok {
		return r, true
	}
	r, ok := flagRules[name]
	return r, ok
}

// checkFlags refuses the first flag given on the command line whose value
// its rule refuses (a flag left at its default is not checked), with
// badFlag's one message. command is the top-level command ("migrate" for
// `migrate down`), as the rules and the messages name it.
func checkFlags(fs *pflag.FlagSet, command string) error {
	var err error
	fs.Visit(func(f *pflag.Flag) {
		r, ok := ruleFor(command, f.Name)
		if err != nil || !ok {
			return
		}
		if v, numeric := numericValue(fs, f); numeric && !r.ok(v) {
			err = badFlag(command, f.Name, r.want, f.Value.String())
		}
	})
	return err
}

// numericValue is f's value as the rules take it (int, float64,
// time.Duration, uint64); false for a flag of another type.
func numericValue(fs *pflag.FlagSet, f *pflag.Flag) (any, bool) {
	var v any
	var err error
	switch f.Value.Type() {
	case "int":
		v, err = fs.GetInt(f.Name)
	case "float64":
		v, err = fs.GetFloat64(f.Name)
	case "duration":
		v, err = fs.GetDuration(f.Name)
	case "uint64":
		v, err = fs.GetUint64(f.Name)
	default:
		return nil, false
	}
	return v, err == nil
}

// badFlag is the one message of an invalid flag value, a usage error:
// "bench: --max-time must be a positive duration (got -1s)".
func badFlag(command, name, want, got string) error {
	return fmt.Errorf("%w: %s: --%s must be %s (got %s)", errUsage, command, name, want, got)
}
