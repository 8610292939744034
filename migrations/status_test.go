package migrations_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/migrations"
	"hmperf/queries/pgtest"
)

// statements counts the statements a connection sends.
type statements struct{ n atomic.Int64 }

func (s *statements) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	s.n.Add(1)
	return ctx
}

func (s *statements) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// TestReadStatusRoundTrips: the status, which the dashboard reads every
// tick, asks the catalogue about hmperf's tables once, then reads the
// version: two statements on a database hmperf manages, whatever the
// number of tables checked. It still reads the right version.
func TestReadStatusRoundTrips(t *testing.T) {
	ctx := testCtx(t)
	cfg, err := pgx.ParseConfig(pgtest.NewMigratedDB(t))
	if err != nil {
		t.Fatal(err)
	}
	count := &statements{}
	cfg.Tracer = count
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	st, err := migrations.ReadStatus(ctx, conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	files, err := migrations.List(migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	if want := files[len(files)-1].Version; st.Version != want || st.Dirty || st.Pending != 0 {
		t.Errorf("status: version %d, dirty %v, %d pending; want version %d, clean, none pending", st.Version, st.Dirty, st.Pending, want)
	}
	if n := count.n.Load(); n != 2 {
		t.Errorf("ReadStatus sent %d statements, want 2 (the catalogue, the version)", n)
	}
}

// TestReadStatusNamesTheMissingGrant: a role that may not read hmperf's
// version table gets the GRANT it lacks, from the one catalogue read; with
// both grants it reads the version. Each case runs as a role made and
// dropped inside a transaction that is rolled back.
func TestReadStatusNamesTheMissingGrant(t *testing.T) {
	ctx := testCtx(t)
	conn, err := pgx.Connect(ctx, pgtest.NewMigratedDB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	role := pgx.Identifier{fmt.Sprintf("hmperf_status_%d", time.Now().UnixNano())}.Sanitize()
	for _, tt := range []struct {
		name   string
		grants []string
		want   string // in the error; "" for none
	}{
		{"no grant", nil, "lacks USAGE on schema hmperf"},
		{"usage only", []string{"GRANT USAGE ON SCHEMA hmperf TO " + role}, "cannot read hmperf.schema_migrations: this role lacks SELECT"},
		{"usage and select", []string{"GRANT USAGE ON SCHEMA hmperf TO " + role,
			"GRANT SELECT ON ALL TABLES IN SCHEMA hmperf TO " + role}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tx, err := conn.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(context.Background())
			for _, stmt := range append([]string{"CREATE ROLE " + role}, append(tt.grants, "SET LOCAL ROLE "+role)...) {
				if _, err := tx.Exec(ctx, stmt); err != nil {
					t.Fatalf("%s: %v", stmt, err)
				}
			}
			st, err := migrations.ReadStatus(ctx, tx, nil)
			switch {
			case tt.want == "" && (err != nil || !st.HasVersion):
				t.Errorf("ReadStatus = version %d (has one: %v), %v; want the version", st.Version, st.HasVersion, err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("ReadStatus error %v, want one saying %q", err, tt.want)
			}
		})
	}
}
