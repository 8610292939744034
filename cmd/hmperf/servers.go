package main

import (
	"context"
	"fmt"
	"io"

	"hmperf/cmd/internal/dbtarget"
)

// dsnFlag is the --dsn flag: each use adds a server. The first is kept in
// connFlags.dsn, the server every command that needs one server uses.
type dsnFlag struct{ c *connFlags }

// String is empty: a connection string may hold a password, and the flag
// package prints String as the flag's default.
func (f dsnFlag) String() string { return "" }

// Type names the value in help: `--dsn string`.
func (f dsnFlag) Type() string { return "string" }

func (f dsnFlag) Set(v string) error {
	if f.c.dsn == "" && len(f.c.moreDSNs) == 0 {
		f.c.dsn = v
		return nil
	}
	f.c.moreDSNs = append(f.c.moreDSNs, v)
	return nil
}

// allDSNs lists every --dsn value, the first first.
func (c *connFlags) allDSNs() []string {
	if c.dsn == "" && len(c.moreDSNs) == 0 {
		return nil
	}
	return append([]string{c.dsn}, c.moreDSNs...)
}

// servers lists the servers named on the command line: --servers FILE or
// every --dsn, in order; nil when neither was given (then DATABASE_URL, the
// libpq environment or the embedded server is the one server).
func (c *connFlags) servers() ([]server, error) {
	dsns := c.allDSNs()
	if c.serversPath == "" {
		out := make([]server, len(dsns))
		for i, d := range dsns {
			out[i] = server{DSN: d}
		}
		return out, nil
	}
	if len(dsns) > 0 {
		return nil, fmt.Errorf("%w: give --dsn or --servers, not both", errUsage)
	}
	return dbtarget.ReadServers(c.serversPath)
}

// namedTarget is a resolved server with the name reports give it.
type namedTarget struct {
	name string
	*target
}

// resolveTargets resolves every server named on the command line, or the
// one server resolveTarget picks when none is.
func resolveTargets(ctx context.Context, cf connFlags, stderr io.Writer) ([]namedTarget, error) {
	list, err := cf.servers()
	if err != nil {
		return nil, err
	}
	all, err := dbtarget.ResolveAll(ctx, list, cf.settings(), stderr)
	if err != nil {
		return nil, err
	}
	out := make([]namedTarget, len(all))
	for i, n := range all {
		out[i] = namedTarget{name: n.Name, target: n.Target}
	}
	return out, nil
}
