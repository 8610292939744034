package cliargs

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestNormalize on a small tree: a long flag is found on the command its
// word belongs to (own, persistent or inherited), a bool flag takes no
// value, and a negative positional number moves after "--".
func TestNormalize(t *testing.T) {
	t.Parallel()
	root := &cobra.Command{Use: "tool"}
	root.PersistentFlags().String("dsn", "", "")
	sub := &cobra.Command{Use: "move"}
	sub.PersistentFlags().Bool("all", false, "")
	leaf := &cobra.Command{Use: "down"}
	leaf.Flags().Int("limit", 0, "")
	sub.AddCommand(leaf)
	root.AddCommand(sub)
	for _, c := range []struct{ in, want string }{
		{"-dsn X move down -all -limit -1", "--dsn X move down --all --limit -1"},
		{"move -limit 1", "move -limit 1"},
		{"move down -1 -all", "move down --all -- -1"},
		{"move down -2 x -- y", "move down -- -2 x y"},
		{"-dsn=X -help", "--dsn=X --help"},
		{"-version move", "--version move"},
		{"move -version", "move -version"},
		{"-x", "-x"},
		{"__complete -dsn", "__complete -dsn"},
	} {
		if got := strings.Join(Normalize(root, strings.Fields(c.in)), " "); got != c.want {
			t.Errorf("Normalize(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
