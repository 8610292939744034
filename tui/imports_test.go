package tui

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// panelPackages are the packages of the panels: each may import the shared
// packages (datatable, format, source, theme, verdict) but no other panel,
// so that a panel can change without another one breaking.
var panelPackages = []string{"alerts", "benchmarks", "constraints", "indexes", "ingest", "migrations", "overview", "servers"}

// TestPanelsDoNotImportEachOther reads every non-test file of every panel
// package and fails on an import of another panel.
func TestPanelsDoNotImportEachOther(t *testing.T) {
	panels := map[string]bool{}
	for _, p := range panelPackages {
		panels["hmperf/tui/"+p] = true
	}
	for _, p := range panelPackages {
		files, err := filepath.Glob(filepath.Join(p, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no Go files in tui/%s (%v)", p, err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := parser.ParseFile(token.NewFileSet(), f, src, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range parsed.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				if panels[path] {
					t.Errorf("tui/%s imports %s: move what they share into a shared package (tui/verdict, tui/format)", f, path)
				}
			}
		}
	}
}
