package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestVersionNamesTheCommit: hmperf built with `go build` from a git
// checkout names the checkout's commit, and says when the tree had
// changes. It builds from a clone of HEAD: the Go toolchain reads no
// commit from a git worktree, whose .git is a file.
func TestVersionNamesTheCommit(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	head := gitOut(t, ".", "rev-parse", "HEAD")
	src := filepath.Join(t.TempDir(), "src")
	gitOut(t, ".", "clone", "--quiet", gitOut(t, ".", "rev-parse", "--show-toplevel"), src)
	gitOut(t, src, "checkout", "--quiet", "--detach", head)
	if got := builtVersion(t, src); !strings.Contains(got, "git "+head+",") || strings.Contains(got, "modified") {
		t.Errorf("--version %q: want commit %s, unmodified", got, head)
	}
	readme := filepath.Join(src, "README.md")
	f, err := os.OpenFile(readme, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("\nchanged\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if got := builtVersion(t, src); !strings.Contains(got, head) || !strings.HasSuffix(got, ", modified)\n") {
		t.Errorf("--version %q of a changed tree: want commit %s, modified", got, head)
	}
}

// builtVersion builds hmperf in src with VCS stamping on (whatever GOFLAGS
// says) and returns what its --version prints.
func builtVersion(t *testing.T, src string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "hmperf")
	build := exec.Command("go", "build", "-buildvcs=true", "-o", bin, "./cmd/hmperf")
	build.Dir = src
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func gitOut(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git %v: %v", args, err)
	}
	return strings.TrimSpace(string(out))
}
