package pglaunch

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// SweepStale removes cluster directories under base left behind by a process
// that was killed before it could stop its server: those whose postmaster is
// gone and which are older than a minute (younger ones may still be starting).
func SweepStale(base string) {
	entries, err := os.ReadDir(base)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), dirPrefix) {
			continue
		}
		dir := filepath.Join(base, e.Name())
		if info, err := e.Info(); err != nil || time.Since(info.ModTime()) < time.Minute {
			continue
		}
		if postmasterAlive(dir) {
			continue
		}
		_ = os.RemoveAll(dir)
	}
}

func postmasterAlive(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "data", "postmaster.pid"))
	if err != nil {
		return false
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || pid <= 0 {
		return false
	}
	return processAlive(pid)
}
