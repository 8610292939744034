package main

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// TestFlagValueCompletion: `hmperf __complete ...`, what the shell scripts
// call, offers the known values of a flag and the flags of a command.
func TestFlagValueCompletion(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args      []string
		want      []string
		directive string
	}{
		{[]string{"ingest", "--types", ""}, []string{"heart_rate", "blood_pressure", "sleep", "workout", "activity", "nutrition", "symptom"}, "ShellCompDirectiveNoSpace, ShellCompDirectiveNoFileComp"},
		{[]string{"ingest", "--types", "sleep,"}, []string{"sleep,heart_rate", "sleep,blood_pressure", "sleep,workout", "sleep,activity", "sleep,nutrition", "sleep,symptom"}, "ShellCompDirectiveNoSpace"},
		{[]string{"ingest", "--context", ""}, []string{"api", "user-input", "bulk-import", "migration", "testing"}, "ShellCompDirectiveNoFileComp"},
		{[]string{"ingest", "--skip-validation", "api,t"}, []string{"api,user-input", "api,bulk-import", "api,migration", "api,testing"}, "ShellCompDirectiveNoSpace"},
		{[]string{"ingest", "--target", ""}, []string{"live", "sandbox"}, "ShellCompDirectiveNoFileComp"},
		{[]string{"bench", "--table", ""}, []string{"nutrition", "symptoms", "activity", "all"}, "ShellCompDirectiveNoFileComp"},
		{[]string{"bench", "--method", ""}, []string{"copy", "service", "function"}, "ShellCompDirectiveNoFileComp"},
		{[]string{"bench", "--reps", ""}, []string{"auto"}, "ShellCompDirectiveNoFileComp"},
		{[]string{"--servers", ""}, []string{"toml"}, "ShellCompDirectiveFilterFileExt"},
		{[]string{"migrate", "down", "--a"}, []string{"--all"}, ""},
		{[]string{"bench", "--met"}, []string{"--method"}, ""},
		{[]string{"--dsn", "x", "migrate", "--re"}, []string{"--read-only"}, ""},
	} {
		r := runCmd(context.Background(), "", append([]string{"__complete"}, c.args...)...)
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		var got []string
		for _, l := range lines[:len(lines)-1] {
			name, _, _ := strings.Cut(l, "\t")
			got = append(got, name)
		}
		if r.code != 0 || !slices.Equal(got, c.want) || !strings.Contains(r.stderr, c.directive) {
			t.Errorf("__complete %q: exit %d, offered %q (stderr %q); want %q, %s", c.args, r.code, got, r.stderr, c.want, c.directive)
		}
	}
}
