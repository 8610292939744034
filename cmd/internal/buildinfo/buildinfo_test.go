package buildinfo

import (
	"runtime/debug"
	"testing"
)

// TestFormat: the version names the ldflags or module version and, where
// the build recorded one, the commit, its time and a changed tree.
func TestVersionOf(t *testing.T) {
	t.Parallel()
	vcs := func(modified string) *debug.BuildInfo {
		return &debug.BuildInfo{Main: debug.Module{Path: "hmperf", Version: "v1.2.3"}, Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "0123abc"},
			{Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}, {Key: "vcs.modified", Value: modified},
		}}
	}
	for _, c := range []struct {
		name, ldflags string
		info          *debug.BuildInfo
		want          string
	}{
		{"no build information", "", nil, "unknown"},
		{"ldflags, no build information", "1.0", nil, "1.0"},
		{"no VCS", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "(devel)"},
		{"clean checkout", "", vcs("false"), "v1.2.3 (git 0123abc, 2026-01-02T03:04:05Z)"},
		{"changed checkout", "", vcs("true"), "v1.2.3 (git 0123abc, 2026-01-02T03:04:05Z, modified)"},
		{"ldflags win over the module version", "1.0", vcs("false"), "1.0 (git 0123abc, 2026-01-02T03:04:05Z)"},
	} {
		if got := Format(c.ldflags, c.info); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
