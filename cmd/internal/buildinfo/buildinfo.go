// Package buildinfo formats hmperf's version from the build information
// the Go toolchain records in the binary.
package buildinfo

import (
	"fmt"
	"runtime/debug"
)

// Version is hmperf's version: the module version the Go toolchain
// recorded in the binary (or ldflagsVersion, where -ldflags set one) and,
// for a binary built with `go build` from a git checkout, the commit, its
// time and whether the tree had uncommitted changes.
func Version(ldflagsVersion string) string {
	info, _ := debug.ReadBuildInfo()
	return Format(ldflagsVersion, info)
}

// Format formats the version from ldflagsVersion and info (nil when the
// binary carries no build information).
func Format(ldflagsVersion string, info *debug.BuildInfo) string {
	v := ldflagsVersion
	if v == "" && info != nil {
		v = info.Main.Version
	}
	if v == "" {
		v = "unknown"
	}
	if info == nil {
		return v
	}
	vcs := map[string]string{}
	for _, s := range info.Settings {
		vcs[s.Key] = s.Value
	}
	rev := vcs["vcs.revision"]
	if rev == "" {
		return v
	}
	v += fmt.Sprintf(" (%s %s", vcs["vcs"], rev)
	if t := vcs["vcs.time"]; t != "" {
		v += ", " + t
	}
	if vcs["vcs.modified"] == "true" {
		v += ", modified"
	}
	return v + ")"
}
