// Package cliargs rewrites command lines written for Go's flag package
// into ones pflag parses the same way.
package cliargs

import (
	"regexp"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Normalize rewrites a command line written for Go's flag package, as
// hmperf's commands once parsed theirs and as scripts may still call them,
// into one pflag parses the same way:
//
//   - a single-dash long flag (-dsn URL, -json) becomes --dsn, --json, where
//     the command takes a flag of that name (-h stays cobra's shorthand);
//   - a negative number that is a positional argument (`migrate force -1`),
//     which pflag would read as a shorthand flag, moves after a "--" at the
//     end, together with the positional arguments that follow it, so their
//     order is kept. A negative number that is a flag's value stays.
//
// It follows subcommands as it goes, so each word is looked up in the
// flags of the command it belongs to. Completion requests pass unchanged.
func Normalize(root *cobra.Command, args []string) []string {
	if len(args) > 0 && (args[0] == cobra.ShellCompRequestCmd || args[0] == cobra.ShellCompNoDescRequestCmd) {
		return args
	}
	cur := root
	var out, moved []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return joinMoved(out, moved, args[i+1:])
		case negativeNumber.MatchString(a) || (len(moved) > 0 && !strings.HasPrefix(a, "-")):
			moved = append(moved, a)
		case strings.HasPrefix(a, "-") && a != "-":
			name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
			f := lookupFlag(root, cur, name)
			if f != nil && len(name) > 1 && !strings.HasPrefix(a, "--") {
				a = "-" + a
			}
			out = append(out, a)
			if f != nil && len(name) > 1 && !hasValue && f.NoOptDefVal == "" && i+1 < len(args) {
				i++
				out = append(out, args[i])
			}
		default:
			if sub := subcommand(cur, a); sub != nil {
				cur = sub
			}
			out = append(out, a)
		}
	}
	if len(moved) == 0 {
		return out
	}
	return joinMoved(out, moved, nil)
}

var negativeNumber = regexp.MustCompile(`^-\d+$`)

// joinMoved is out, then "--", the moved positional arguments and the ones
// that already stood after a "--".
func joinMoved(out, moved, rest []string) []string {
	out = append(out, "--")
	out = append(out, moved...)
	return append(out, rest...)
}

// lookupFlag finds the long flag name that cur takes: its own, its
// persistent ones and those it inherits; help everywhere and version on
// the root, which cobra adds only when it runs.
func lookupFlag(root, cur *cobra.Command, name string) *pflag.Flag {
	if name == "help" || (name == "version" && cur == root) {
		return &pflag.Flag{Name: name, NoOptDefVal: "true"}
	}
	if f := cur.Flags().Lookup(name); f != nil {
		return f
	}
	for c := cur; c != nil; c = c.Parent() {
		if f := c.PersistentFlags().Lookup(name); f != nil {
			return f
		}
	}
	return nil
}

// subcommand is cur's subcommand called name, or nil.
func subcommand(cur *cobra.Command, name string) *cobra.Command {
	for _, c := range cur.Commands() {
		if c.Name() == name || c.HasAlias(name) {
			return c
		}
	}
	return nil
}
