package main

import (
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"hmperf/engine"
	"hmperf/queries/bench"
	"hmperf/queries/ingest"
)

// flagCompletions completes the values of the flags whose values are
// known, by flag name, in every command that declares one of that name.
func flagCompletions() map[string]cobra.CompletionFunc {
	return map[string]cobra.CompletionFunc{
		"table":           fixedValues(benchTables()...),
		"method":          fixedValues(string(bench.MethodCopy), string(bench.MethodService), string(bench.MethodFunction)),
		"reps":            fixedValues("auto"),
		"types":           listValues(kindNames()),
		"context":         fixedValues(contextNames()...),
		"skip-validation": listValues(contextNames()),
		"target":          fixedValues(ingest.Live.String(), ingest.Sandbox.String()),
		"servers":         fileValues("toml"),
		"export-dir":      dirValues,
		"report":          dirValues,
	}
}

// registerCompletions attaches flagCompletions to every flag of the tree
// under root that has one.
func registerCompletions(root *cobra.Command) {
	comps := flagCompletions()
	seen := map[*pflag.Flag]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, fs := range []*pflag.FlagSet{c.Flags(), c.PersistentFlags()} {
			fs.VisitAll(func(f *pflag.Flag) {
				if fn, ok := comps[f.Name]; ok && !seen[f] {
					seen[f] = true
					// The only error is a flag registered twice, which seen prevents.
					_ = c.RegisterFlagCompletionFunc(f.Name, fn)
				}
			})
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// benchTables are --table's values: each pair, then all.
func benchTables() []string {
	pairs, _ := bench.ParseTables("all")
	return append(slices.Clone(pairs), "all")
}

// kindNames are the record kinds --types takes.
func kindNames() []string {
	var out []string
	for _, k := range engine.Kinds() {
		out = append(out, k.String())
	}
	return out
}

// contextNames are the validation contexts --context and
// --skip-validation take.
func contextNames() []string {
	var out []string
	for c := range engine.Context(engine.NumContexts) {
		out = append(out, c.String())
	}
	return out
}

// fixedValues offers values, descriptions aside, and no file names.
func fixedValues(values ...string) cobra.CompletionFunc {
	return cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp)
}

// listValues completes a comma-separated list: the words typed so far,
// then each value not yet in it; no space after, so the list can go on.
func listValues(values []string) cobra.CompletionFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		i := strings.LastIndex(toComplete, ",") + 1
		done, typed := toComplete[:i], strings.Split(toComplete[:i], ",")
		var out []cobra.Completion
		for _, v := range values {
			if !slices.Contains(typed, v) {
				out = append(out, done+v)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	}
}

// fileValues offers files with one of the extensions.
func fileValues(ext ...string) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return ext, cobra.ShellCompDirectiveFilterFileExt
	}
}

// dirValues offers directories only.
func dirValues(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return nil, cobra.ShellCompDirectiveFilterDirs
}
