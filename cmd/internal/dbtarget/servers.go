package dbtarget

import (
	"fmt"
	"os"

	"github.com/BurntSushi/toml"
)

// Server is one configured database server: a name for reports and the
// connection string, which libpq's environment and .pgpass complete.
type Server struct {
	Name string `toml:"name"`
	DSN  string `toml:"dsn"`
}

// serversFile is the --servers document:
//
//	[[server]]
//	name = "primary"
//	dsn  = "host=db1 dbname=health user=monitor"
type serversFile struct {
	Server []Server `toml:"server"`
}

// ReadServers reads a --servers file. Every entry needs a name, unique in
// the file; an empty dsn means the libpq environment.
func ReadServers(path string) ([]Server, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read --servers file: %w", err)
	}
	var doc serversFile
	md, err := toml.Decode(string(b), &doc)
	if err != nil {
		return nil, fmt.Errorf("--servers file %s: %v", path, err)
	}
	if extra := md.Undecoded(); len(extra) > 0 {
		return nil, fmt.Errorf("--servers file %s: unknown key %s (each [[server]] has name and dsn)", path, extra[0])
	}
	if len(doc.Server) == 0 {
		return nil, fmt.Errorf("--servers file %s lists no [[server]]", path)
	}
	seen := map[string]bool{}
	for i, s := range doc.Server {
		switch {
		case s.Name == "":
			return nil, fmt.Errorf("--servers file %s: server %d has no name", path, i+1)
		case seen[s.Name]:
			return nil, fmt.Errorf("--servers file %s: server name %q used twice", path, s.Name)
		}
		seen[s.Name] = true
	}
	return doc.Server, nil
}
