package migrations

import (
	"fmt"
	"io/fs"
	"regexp"
	"strconv"
	"strings"
)

// filePair is a migration's up and down files.
type filePair struct{ up, down string }

// listPaths maps every version in src to its files.
func listPaths(src fs.FS) (map[uint]filePair, error) {
	entries, err := fs.ReadDir(src, ".")
	if err != nil {
		return nil, err
	}
	out := map[uint]filePair{}
	for _, e := range entries {
		m := fileName.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		v, err := strconv.ParseUint(m[1], 10, 32)
		if err != nil {
			return nil, fmt.Errorf("migration %s: bad version: %w", e.Name(), err)
		}
		p := out[uint(v)]
		if m[3] == "up" {
			p.up = e.Name()
		} else {
			p.down = e.Name()
		}
		out[uint(v)] = p
	}
	for v, p := range out {
		if p.up == "" {
			return nil, fmt.Errorf("migration %d: %s has no up file", v, p.down)
		}
	}
	return out, nil
}

// trimSQL is a file's name without ".up.sql" or ".down.sql".
func trimSQL(path string) string {
	return strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(path, ".sql"), ".up"), ".down")
}

var (
	txStart = regexp.MustCompile(`(?i)^(BEGIN|START\s+TRANSACTION)(\s+(WORK|TRANSACTION))?\s*;$`)
	txEnd   = regexp.MustCompile(`(?i)^(COMMIT|END|ROLLBACK|ABORT)(\s+(WORK|TRANSACTION))?\s*;$`)
)

// stepStatements splits a file into the statements a step runs: without
// its opening BEGIN and closing COMMIT (the step's own transaction holds
// them and the version change together). Transaction control anywhere
// else would commit part of the file on its own, so the file is refused.
func stepStatements(path, body string) ([]statement, error) {
	stmts := splitStatements(body)
	if n := len(stmts); n > 1 && txStart.MatchString(stmts[0].code()) && txEnd.MatchString(stmts[n-1].code()) &&
		strings.HasPrefix(strings.ToUpper(stmts[n-1].code()), "COMMIT") {
		stmts = stmts[1 : n-1]
	}
	for _, s := range stmts {
		if txStart.MatchString(s.code()) || txEnd.MatchString(s.code()) {
			return nil, fmt.Errorf("migration %s line %d: %q: a file runs as one transaction with its version, so it may only open with BEGIN and end with COMMIT", path, s.Line, s.FirstLine())
		}
	}
	return stmts, nil
}
