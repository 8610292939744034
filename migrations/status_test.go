package migrations_test

import (
	"context"
	"sync/atomic"
	"testing"

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
