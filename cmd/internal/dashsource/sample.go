package dashsource

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"hmperf/engine"
	"hmperf/queries"
	"hmperf/queries/ingest"
	"hmperf/queries/writepolicy"
)

// sampleRun is a paced sample ingest running in its own goroutine, which
// Stop ends and waits for.
type sampleRun struct {
	cancel context.CancelFunc
	// stop, closed, ends the run after its batch in flight.
	stop chan struct{}
	done chan struct{}
	err  error // why the run ended; written before done closes
}

// stopWithin ends the run after its batch in flight and waits for its
// goroutine, at most d. A batch still running after half of d is
// cancelled, and so rolled back. Letting the batch finish is what keeps
// its rows hmperf's: cancelling a statement closes its connection, and
// with it goes the record of the rows the batch rolled back, which the
// write sampler would then count as the service's.
func (r *sampleRun) stopWithin(d time.Duration) error {
	close(r.stop)
	grace := time.NewTimer(d / 2)
	defer grace.Stop()
	select {
	case <-r.done:
		return nil
	case <-grace.C:
		r.cancel()
	}
	select {
	case <-r.done:
		return nil
	case <-time.After(d - d/2):
		return fmt.Errorf("the sample ingest did not stop within %s", d)
	}
}

// Ended reports whether the run's goroutine has ended, and the error it
// ended on (nil when it was stopped).
func (r *sampleRun) Ended() (bool, error) {
	select {
	case <-r.done:
		return true, r.err
	default:
		return false, nil
	}
}

// startSampleIngest starts a paced sample ingest that runs until ctx is
// cancelled, Stop is called, or a batch fails for a reason that the next
// batch would meet too: rate records per second, in one batch a second, so
// a first-time user sees the charts move without the ingest taking the
// machine. On a database hmperf did not create the rows go to the sandbox
// (writepolicy.Generated).
func startSampleIngest(ctx context.Context, pool *pgxpool.Pool, rate int) (*sampleRun, error) {
	rules := engine.DefaultRules()
	cache, err := engine.NewCache(10000, time.Hour, time.Now)
	if err != nil {
		return nil, err
	}
	pick := func() (ingest.Target, error) { return writepolicy.Generated(ctx, pool) }
	in, err := writepolicy.OpenIngester(ctx, pool, "the dashboard's sample ingest", pick, false, ingest.Options{Context: engine.ContextAPI, Generated: true,
		Validator: engine.NewValidator(rules, engine.DefaultPolicy(), cache), Cache: cache})
	if err != nil {
		return nil, err
	}
	cfg := engine.DefaultGenConfig(uint64(time.Now().UnixNano()))
	if cfg.UserIDs, err = in.SampleUsers(ctx); err != nil {
		return nil, err
	}
	g, err := engine.NewGenerator(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	r := &sampleRun{cancel: cancel, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.err = paceSample(ctx, r.stop, in, g, rate)
	}()
	return r, nil
}

// paceSample writes one batch of rate records a second until ctx ends or
// stop is closed (nil), or a batch fails for good (its error). A batch
// that failed on a lost connection or a timeout is not the end: the
// dashboard shows the outage, and the next tick tries again.
func paceSample(ctx context.Context, stop <-chan struct{}, in *ingest.Ingester, g *engine.Generator, rate int) error {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		err := ingest.RunSample(ctx, in, g, rate, rate, nil)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil && !transient(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-stop:
			return nil
		case <-tick.C:
		}
	}
}

// transient reports whether a batch's error is one a later batch may not
// meet: the connection went away or timed out, the server was busy,
// shutting down or starting up, or the batch lost a serialization race.
func transient(err error) bool {
	if pgconn.Timeout(err) || pgconn.SafeToRetry(err) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var netErr net.Error
	var connErr *pgconn.ConnectError
	if errors.As(err, &netErr) || errors.As(err, &connErr) {
		return true
	}
	return queries.Classify(err).Transient()
}

// ErrReadOnly is the refusal of a write with --read-only.
var ErrReadOnly = errors.New("read-only: writes are disabled")
