// Package pglaunch starts a throwaway local PostgreSQL cluster: hmperf's
// embedded database when no connection is configured, and the test suite's
// database server.
package pglaunch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// ErrNoBinaries is returned when no PostgreSQL server binaries can be found.
var ErrNoBinaries = errors.New("no PostgreSQL server binaries found (initdb and postgres): " +
	"install PostgreSQL's server package (Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql) " +
	"or connect to an existing server with --dsn")

// BinDir returns the directory of the server binaries Start runs: the
// installed ones (opts.Find, FindBinDir by default) when there are any, else
// those Fetch downloads into the cache. Nothing is fetched when
// HMPERF_PG_BINDIR pins a directory, or when HMPERF_PG_REPOSITORY is "off".
func BinDir(ctx context.Context, opts Options) (string, error) {
	find := opts.Find
	if find == nil {
		find = FindBinDir
	}
	dir, err := find()
	if err == nil || !errors.Is(err, ErrNoBinaries) || os.Getenv(EnvBinDir) != "" || fetchOff(opts.Fetch) {
		return dir, err
	}
	dir, ferr := Fetch(ctx, opts.Fetch)
	if ferr != nil {
		return "", fmt.Errorf("%w; fetching them failed too: %v", err, ferr)
	}
	return dir, nil
}

func fetchOff(o FetchOptions) bool {
	return o.Repository == "off" || (o.Repository == "" && os.Getenv(EnvRepository) == "off")
}

// FindBinDir returns the directory holding initdb and postgres: the one
// named by HMPERF_PG_BINDIR when it is set (and only that one, so a user can
// pin a version), else the first found on PATH, by `pg_config --bindir`, or
// in the usual install locations, newest major version first.
func FindBinDir() (string, error) {
	if d := os.Getenv(EnvBinDir); d != "" {
		if hasServer(d) {
			return d, nil
		}
		return "", fmt.Errorf("HMPERF_PG_BINDIR=%s holds no initdb and postgres: %w", d, ErrNoBinaries)
	}
	var candidates []string
	if p, err := exec.LookPath("initdb"); err == nil {
		candidates = append(candidates, resolvedDir(p))
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		candidates = append(candidates, strings.TrimSpace(string(out)))
	}
	for _, pattern := range []string{
		"/usr/lib/postgresql/*/bin",
		"/usr/pgsql-*/bin",
		"/usr/local/pgsql/bin",
		"/opt/homebrew/opt/postgresql*/bin",
		"/usr/local/opt/postgresql*/bin",
	} {
		candidates = append(candidates, newestFirst(pattern)...)
	}
	for _, dir := range candidates {
		if hasServer(dir) {
			return dir, nil
		}
	}
	return "", ErrNoBinaries
}

// resolvedDir follows symlinks so that a /usr/local/bin/initdb link leads to
// the directory where postgres itself lives.
func resolvedDir(p string) string {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		p = r
	}
	return filepath.Dir(p)
}

func hasServer(dir string) bool {
	for _, name := range []string{"initdb", "postgres"} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}

// newestFirst globs pattern and orders the matches by the highest number in
// their path, so PostgreSQL 17 is preferred to 15.
func newestFirst(pattern string) []string {
	matches, _ := filepath.Glob(pattern)
	sort.SliceStable(matches, func(i, j int) bool {
		return versionOf(matches[i]) > versionOf(matches[j])
	})
	return matches
}

func versionOf(path string) int {
	best := 0
	for _, part := range strings.FieldsFunc(path, func(r rune) bool { return r < '0' || r > '9' }) {
		if n, err := strconv.Atoi(part); err == nil && n > best {
			best = n
		}
	}
	return best
}
