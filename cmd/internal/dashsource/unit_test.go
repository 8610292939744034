package dashsource

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"

	"hmperf/queries/fleet"
)

// TestTransient: lost connections and busy servers are retried; a missing
// column or table is not.
func TestTransient(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{io.ErrUnexpectedEOF, true},
		{fmt.Errorf("batch 3: %w", &pgconn.PgError{Code: pgerrcode.AdminShutdown}), true},
		{&pgconn.PgError{Code: pgerrcode.DeadlockDetected}, true},
		{&pgconn.PgError{Code: pgerrcode.ConnectionFailure}, true},
		{context.DeadlineExceeded, true},
		{fmt.Errorf("batch 3: %w", &pgconn.PgError{Code: pgerrcode.UndefinedColumn}), false},
		{&pgconn.PgError{Code: pgerrcode.UndefinedTable}, false},
		{errors.New("cannot write public.sleep_metrics: public.sleep_metrics.quality: no such column"), false},
	} {
		if got := transient(tt.err); got != tt.want {
			t.Errorf("transient(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// TestWritesGoToTheOnePrimary: a set writes to the one server the last
// poll read as primary, and to none when there is none or more than one.
func TestWritesGoToTheOnePrimary(t *testing.T) {
	at := func(name string, role fleet.Role, up bool) *member {
		return &member{name: name, up: up, prev: fleet.Stats{Role: role}}
	}
	tests := []struct {
		name    string
		members []*member
		want    string
		wantErr string
	}{
		{"one primary", []*member{at("a", fleet.Replica, true), at("b", fleet.Primary, true)}, "b", ""},
		{"the primary down", []*member{at("a", fleet.Primary, false), at("b", fleet.Replica, true)}, "", "no server of the set answered as primary"},
		{"never polled", []*member{at("a", "", false), at("b", "", false)}, "", "no server of the set answered as primary"},
		{"two primaries", []*member{at("a", fleet.Primary, true), at("b", fleet.Primary, true)}, "", "2 servers of the set answered as primary"},
		{"one server, whatever it is", []*member{at("a", "", false)}, "", ""},
	}
	for _, tc := range tests {
		got, err := (&Fleet{members: tc.members}).WritesTo()
		if got != tc.want || (err == nil) != (tc.wantErr == "") || err != nil && !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: WritesTo = %q, %v; want %q and an error saying %q", tc.name, got, err, tc.want, tc.wantErr)
		}
	}
}
