package main

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/spf13/pflag"

	"hmperf/cmd/internal/dbtarget"
)

// TestConnectionsAreLabelled checks that every command's connections carry
// "hmperf <command>" and the lock timeout its flags give.
func TestConnectionsAreLabelled(t *testing.T) {
	for _, tc := range []struct {
		name      string
		args      []string
		wantApp   string
		wantLockT string
	}{
		{name: "hmperf migrate", wantApp: "hmperf migrate", wantLockT: "1000"},
		{name: "hmperf bench", args: []string{"--lock-timeout", "250ms"}, wantApp: "hmperf bench", wantLockT: "250"},
		{name: "hmperf monitor", args: []string{"--lock-timeout", "0"}, wantApp: "hmperf monitor", wantLockT: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cf := connFlags{command: tc.name}
			fs := pflag.NewFlagSet(tc.name, pflag.ContinueOnError)
			cf.register(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			cfg, err := pgx.ParseConfig("host=/nonexistent dbname=x")
			if err != nil {
				t.Fatal(err)
			}
			cf.settings().Apply(cfg)
			if got := cfg.RuntimeParams["application_name"]; got != tc.wantApp {
				t.Errorf("application_name %q, want %q", got, tc.wantApp)
			}
			if got := cfg.RuntimeParams["lock_timeout"]; got != tc.wantLockT {
				t.Errorf("lock_timeout %q, want %q", got, tc.wantLockT)
			}
			if cf.lockWait != 2*time.Minute {
				t.Errorf("lock wait %s, want the default 2m", cf.lockWait)
			}
		})
	}
	if got := dbtarget.ApplicationName(""); got != "hmperf" {
		t.Errorf("dbtarget.ApplicationName(\"\") = %q, want hmperf", got)
	}
	if got := dbtarget.ApplicationName("local"); got != "hmperf local" {
		t.Errorf("dbtarget.ApplicationName(local) = %q, want hmperf local", got)
	}
}
