package engine_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps the package comment true: besides the standard
// library, the engine imports golang-lru and jsontext only.
func TestDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		t.Skipf("go list is not available: %v", err)
	}
	allowed := []string{"hmperf/engine", "github.com/hashicorp/golang-lru/v2", "github.com/go-json-experiment/json/jsontext", "github.com/go-json-experiment/json/internal"}
	for _, dep := range strings.Fields(string(out)) {
		ok := false
		for _, a := range allowed {
			ok = ok || dep == a || strings.HasPrefix(dep, a+"/")
		}
		if !ok {
			t.Errorf("engine depends on %s, which its package comment does not name", dep)
		}
	}
}
