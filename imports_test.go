package hmperf

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// module is the module path every package of the project starts with.
const module = "hmperf"

// layer is one row of the import table of design.md: the packages under
// prefix, the module's packages they may import besides their own layer's,
// and the modules outside the standard library they may import.
type layer struct {
	prefix   string
	inModule []string // module packages (and their sub-packages) allowed
	exact    []string // module packages allowed, without their sub-packages
	external []string // module paths (and their sub-packages) allowed
	// shared are the packages of the layer its other packages may import
	// sideways; each is there for the reason its comment gives. A package
	// may always import its ancestors in the layer (the shared root, such
	// as queries' DBTX) and its descendants (a root composes its parts).
	shared []string
	// leaves import no package of the module: the rest of the layer
	// builds on them, so an arrow out of one points the wrong way.
	leaves []string
	// all: anything goes (the command wires everything together).
	all bool
}

// layers is the import table. Every package of the module must fall in
// exactly one (the longest prefix wins).
func layers() []layer {
	pgx := []string{"github.com/jackc/pgx/v5", "github.com/jackc/pgerrcode"}
	return []layer{
		// cmd, including packages under it such as cmd/internal/...,
		// wires the database to the dashboard: it imports everything.
		{prefix: "hmperf/cmd", all: true},
		// The engine is the model: standard library and two small libraries.
		{prefix: "hmperf/engine", external: []string{
			"github.com/hashicorp/golang-lru/v2", "github.com/go-json-experiment/json"}},
		// Migrations run their DDL through lockwait's retry under
		// lock_timeout, a rule of the project for a busy database, and talk
		// to it through the one DBTX and its error classifier (queries).
		{prefix: "hmperf/migrations", inModule: []string{"hmperf/queries/lockwait"}, exact: []string{"hmperf/queries"}, external: pgx},
		{prefix: "hmperf/queries", inModule: []string{"hmperf/engine"}, external: pgx,
			shared: []string{
				// Every DDL and long read waits for locks the same way.
				"hmperf/queries/lockwait",
				// The live catalogue is read once, for every writer.
				"hmperf/queries/catalog",
				// Every writer encodes its COPY rows the same way.
				"hmperf/queries/copyenc",
				// Where hmperf's own rows go on a database it did not create.
				"hmperf/queries/sandbox",
			},
			// The DBTX interface with the error classifier, and the launcher.
			leaves: []string{"hmperf/queries", "hmperf/queries/pglaunch"}},
		// The launcher fetches server binaries where none are installed and
		// unpacks their xz archives.
		{prefix: "hmperf/queries/pglaunch", external: append(pgx, "github.com/xi2/xz"),
			leaves: []string{"hmperf/queries/pglaunch"}},
		// Write policy decides whether and where a command may write: it
		// reads the schema's version and state (migrations) and opens the
		// ingester it governs (queries/ingest).
		{prefix: "hmperf/queries/writepolicy", inModule: []string{"hmperf/engine", "hmperf/migrations", "hmperf/queries"}, external: pgx},
		// The test database helper starts its cluster with the launcher,
		// applies the migrations, and fails a test that leaks goroutines.
		{prefix: "hmperf/queries/pgtest", inModule: []string{"hmperf/queries/pglaunch", "hmperf/migrations"},
			external: append(pgx, "go.uber.org/goleak")},
		// The dashboard never talks to the database: no pgx, no queries.
		{prefix: "hmperf/tui", inModule: []string{"hmperf/engine"},
			external: []string{"github.com/charmbracelet", "github.com/NimbleMarkets/ntcharts"},
			shared: []string{
				// What every panel is made of; none of these is a panel,
				// and no panel imports another.
				"hmperf/tui/datatable", "hmperf/tui/format", "hmperf/tui/pane", "hmperf/tui/severity",
				"hmperf/tui/source", "hmperf/tui/theme", "hmperf/tui/verdict",
			},
			// The data types, the styles, number formatting and the table.
			leaves: []string{"hmperf/tui/source", "hmperf/tui/theme", "hmperf/tui/format", "hmperf/tui/datatable"}},
		{prefix: "hmperf/internal"},
	}
}

// within reports whether path is root or one of its sub-packages.
func within(path, root string) bool { return path == root || strings.HasPrefix(path, root+"/") }

// standard reports whether path is in the standard library: its first
// element has no dot, and it is not the module's.
func standard(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".") && first != module
}

// layerOf is the layer with the longest prefix that holds pkg.
func layerOf(pkg string, ls []layer) (layer, bool) {
	var best layer
	found := false
	for _, l := range ls {
		if within(pkg, l.prefix) && len(l.prefix) >= len(best.prefix) {
			best, found = l, true
		}
	}
	return best, found
}

// top is the layer's root: the first two elements of a module path
// ("hmperf/tui"), so that queries/pgtest's extra row is still queries.
func top(path string) string {
	parts := strings.SplitN(path, "/", 3)
	if len(parts) < 2 {
		return path
	}
	return parts[0] + "/" + parts[1]
}

// checkImport returns why pkg may not import imp, or nil.
func checkImport(pkg, imp string, ls []layer) error {
	l, ok := layerOf(pkg, ls)
	switch {
	case !ok:
		return errors.New("no row of the import table holds " + pkg + ": add one")
	case l.all, standard(imp):
		return nil
	case within(imp, module) && slices.Contains(leavesOf(pkg, ls), pkg):
		return errors.New("imports " + imp + ", but it is a leaf of its layer: it imports nothing of the module")
	case !within(imp, module):
		for _, e := range l.external {
			if within(imp, e) {
				return nil
			}
		}
		return errors.New("imports " + imp + ", which is not among its layer's dependencies")
	}
	for _, m := range l.inModule {
		if within(imp, m) {
			return nil
		}
	}
	if slices.Contains(l.exact, imp) {
		return nil
	}
	if top(imp) != top(pkg) {
		return errors.New("imports " + imp + ": layer " + top(pkg) + " may not import " + top(imp))
	}
	if within(pkg, imp) || within(imp, pkg) {
		return nil // its own ancestor or descendant
	}
	for _, s := range sharedOf(pkg, ls) {
		if within(imp, s) {
			return nil
		}
	}
	return errors.New("imports its sibling " + imp + " sideways: move what they share into a shared package")
}

// sharedOf is the shared list of pkg's layer root (queries/pgtest shares
// queries' list).
func sharedOf(pkg string, ls []layer) []string {
	if l, ok := layerOf(top(pkg), ls); ok {
		return l.shared
	}
	return nil
}

// leavesOf is the leaves of pkg's layer root.
func leavesOf(pkg string, ls []layer) []string {
	if l, ok := layerOf(top(pkg), ls); ok {
		return l.leaves
	}
	return nil
}

// listed is what go list says of one package.
type listed struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
}

// TestImportRules checks every import of every package of the module
// against the import table of design.md. Test files are held to the rule
// that matters most, that the dashboard never reaches the database: they
// may use test libraries and sideways helpers.
func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-json", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	ls := layers()
	n := 0
	for dec := json.NewDecoder(bytes.NewReader(out)); ; n++ {
		var p listed
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		for _, imp := range p.Imports {
			if err := checkImport(p.ImportPath, imp, ls); err != nil {
				t.Errorf("%s %v", p.ImportPath, err)
			}
		}
		for _, imp := range append(p.TestImports, p.XTestImports...) {
			if within(p.ImportPath, "hmperf/tui") && (within(imp, "github.com/jackc") || within(imp, "hmperf/queries")) {
				t.Errorf("a test of %s imports %s: the dashboard's tests use the fake source", p.ImportPath, imp)
			}
		}
	}
	if n == 0 {
		t.Fatal("go list found no package")
	}
}

// TestCheckImport: the rule refuses each arrow the table forbids,
// including the sideways ones it used to miss, and accepts its exceptions.
func TestCheckImport(t *testing.T) {
	ls := layers()
	for _, tt := range []struct {
		pkg, imp string
		ok       bool
	}{
		{"hmperf/tui", "github.com/jackc/pgx/v5", false},
		{"hmperf/tui/alerts", "hmperf/queries/monitor", false},
		{"hmperf/tui/alerts", "hmperf/tui/servers", false},
		{"hmperf/tui/theme", "hmperf/tui/source", false}, // theme is a leaf
		{"hmperf/tui/severity", "hmperf/tui/source", true},
		{"hmperf/tui/theme", "hmperf/tui/alerts", false},
		{"hmperf/queries/monitor", "hmperf/queries/bench", false},
		{"hmperf/queries/monitor", "hmperf/tui/source", false},
		{"hmperf/engine", "hmperf/queries", false},
		{"hmperf/engine", "github.com/jackc/pgx/v5", false},
		{"hmperf/migrations", "hmperf/queries/bench", false},
		{"hmperf/nowhere", "fmt", false},
		{"hmperf/tui", "hmperf/tui/alerts", true},
		{"hmperf/tui/alerts", "hmperf/tui/datatable", true},
		{"hmperf/queries/bench", "hmperf/queries", true},
		{"hmperf/queries/lockwait", "hmperf/queries", true},  // its classifier
		{"hmperf/queries", "hmperf/queries/lockwait", false}, // the root is a leaf
		{"hmperf/migrations", "hmperf/queries", true},
		{"hmperf/queries/writepolicy", "hmperf/migrations", true},
		{"hmperf/queries/ingest", "hmperf/migrations", false},
		{"hmperf/queries/pglaunch", "github.com/xi2/xz", true},
		{"hmperf/queries/bench", "github.com/xi2/xz", false},
		{"hmperf/queries/bench", "hmperf/queries/lockwait", true},
		{"hmperf/queries/pgtest", "hmperf/queries/pglaunch", true},
		{"hmperf/queries/bench", "hmperf/queries/pglaunch", false},
		{"hmperf/engine", "github.com/go-json-experiment/json/jsontext", true},
		{"hmperf/cmd/internal/dashsource", "hmperf/queries/dash", true},
		{"hmperf/cmd/internal/dashsource", "hmperf/tui/source", true},
	} {
		if err := checkImport(tt.pkg, tt.imp, ls); (err == nil) != tt.ok {
			t.Errorf("%s -> %s: got %v, want allowed=%v", tt.pkg, tt.imp, err, tt.ok)
		}
	}
}
