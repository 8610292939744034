package recording

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"hmperf/tui/source"
)

// agePoller answers every poll with empty data and notes the age of an
// answer each poll's context accepts.
type agePoller struct {
	mu   sync.Mutex
	ages map[string]time.Duration
}

func (p *agePoller) note(ctx context.Context, name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ages[name] = source.ReuseOf(ctx)
}

func (p *agePoller) Overview(ctx context.Context) (source.Overview, error) {
	p.note(ctx, "overview")
	return source.Overview{}, nil
}

func (p *agePoller) Constraints(ctx context.Context) ([]source.ConstraintRow, error) {
	p.note(ctx, "constraints")
	return nil, nil
}

func (p *agePoller) Alerts(ctx context.Context) ([]source.Alert, error) {
	p.note(ctx, "alerts")
	return nil, nil
}

func (p *agePoller) Indexes(ctx context.Context) ([]source.IndexJob, error) {
	p.note(ctx, "indexes")
	return nil, nil
}

func (p *agePoller) Benchmarks(ctx context.Context) (source.BenchHistory, error) {
	p.note(ctx, "benchmarks")
	return source.BenchHistory{}, nil
}

func (p *agePoller) Ingest(ctx context.Context) (source.IngestStats, error) {
	p.note(ctx, "ingest")
	return source.IngestStats{}, nil
}

func (p *agePoller) Migrations(ctx context.Context) (source.MigrationStatus, error) {
	p.note(ctx, "migrations")
	return source.MigrationStatus{}, nil
}

func (p *agePoller) Servers(ctx context.Context) ([]source.Server, error) {
	p.note(ctx, "servers")
	return nil, nil
}

func (p *agePoller) Activity(ctx context.Context) (source.Activity, error) {
	p.note(ctx, "activity")
	return source.Activity{}, nil
}

func (p *agePoller) ServerNames() []string { return []string{"db"} }

// TestRecorderTakesAnswersOneIntervalOld: every poll of the recorder, the
// slow panels' included, accepts an answer as old as its interval, so a
// source that keeps the dashboard's answers is not read twice a tick.
func TestRecorderTakesAnswersOneIntervalOld(t *testing.T) {
	w, err := Create(filepath.Join(t.TempDir(), "r.hmrec"), header(), 1<<20, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	p := &agePoller{ages: map[string]time.Duration{}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // one poll, the first and full one, then Run returns
	interval := 3 * time.Second
	if err := (Recorder{Source: p, Writer: w, Interval: interval}).Run(ctx); err != nil {
		t.Fatal(err)
	}
	want := []string{"overview", "constraints", "alerts", "indexes", "benchmarks", "ingest", "migrations", "servers", "activity"}
	for _, name := range want {
		if age, ok := p.ages[name]; !ok || age != interval {
			t.Errorf("%s: polled %v, accepting an answer %s old; want polled, accepting %s", name, ok, age, interval)
		}
	}
}
