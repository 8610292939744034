package ingest

import (
	"context"
	"io"
	"iter"
	"maps"
	"math"
	"slices"
	"sync"

	"hmperf/engine"
)

// Progress is called after each committed batch with the run's totals.
type Progress func(Totals)

// RunSample draws n samples from g and writes them batchSize at a time.
func RunSample(ctx context.Context, in *Ingester, g *engine.Generator, n, batchSize int, progress Progress) error {
	if batchSize <= 0 {
		batchSize = 5000
	}
	pl := newPipeline(ctx, in, progress)
	samples := make([]engine.Sample, batchSize)
	items := make([]Item, 0, batchSize)
	for done := 0; done < n; {
		size := min(batchSize, n-done)
		g.Fill(samples[:size])
		items = items[:0]
		for i, s := range samples[:size] {
			items = append(items, Item{Index: int64(done + i), Type: s.Record.Kind().String(), Record: s.Record})
		}
		if err := pl.submit(items); err != nil {
			break
		}
		done += size
	}
	return pl.wait()
}

// RunBatches writes the batches batches yields, in order, through the
// pipeline. A yielded slice may be reused once the next one is asked for.
func RunBatches(ctx context.Context, in *Ingester, batches iter.Seq[[]Item], progress Progress) error {
	pl := newPipeline(ctx, in, progress)
	for items := range batches {
		if pl.submit(items) != nil {
			break
		}
	}
	return pl.wait()
}

// RunFile decodes an ingest payload as a stream and writes it batchSize
// records at a time. Types without a table are counted as unsupported in a
// last batch, since the decoder only counts them.
func RunFile(ctx context.Context, in *Ingester, r io.Reader, batchSize int, progress Progress) error {
	pl := newPipeline(ctx, in, progress)
	items := make([]Item, 0, batchSize)
	sum, err := engine.DecodePayload(r, engine.DecodeOptions{BatchSize: batchSize}, func(batch []engine.Decoded) error {
		items = items[:0]
		for _, d := range batch {
			items = append(items, decodedItem(d))
		}
		return pl.submit(items)
	})
	if werr := pl.wait(); werr != nil {
		return werr // the writers' error explains a stopped decode best
	}
	if werr := writeUnsupported(ctx, in, sum.Unsupported); err == nil {
		err = werr
	}
	return err
}

func decodedItem(d engine.Decoded) Item {
	it := Item{Index: int64(d.Index), Type: d.Type}
	if d.Err != nil {
		it.Reject, it.Detail = "decode: "+d.Err.Msg, d.Err.Error()
		if d.Err.Field != "" {
			it.Reject = "decode: " + d.Err.Field
		}
		return it
	}
	it.Record = d.Record
	return it
}

// writeUnsupported stores the counts of records of types without a table
// as one last batch of stats rows, one per type tag (the decoder names at
// most engine.MaxUnsupportedTypes), holding no item per record.
func writeUnsupported(ctx context.Context, in *Ingester, counts map[string]int) error {
	if len(counts) == 0 {
		return nil
	}
	p := in.Prepare(nil)
	p.pre = unsupportedStats(counts)
	return in.Commit(ctx, p)
}

// unsupportedStats is the stats rows of counts, by type tag. The stats
// columns are integers: a count past their range (an input of billions of
// records) takes several rows.
func unsupportedStats(counts map[string]int) []TableStats {
	var out []TableStats
	for _, t := range slices.Sorted(maps.Keys(counts)) {
		for n := counts[t]; n > 0; n -= math.MaxInt32 {
			c := min(n, math.MaxInt32)
			out = append(out, TableStats{Table: unsupportedPrefix + t, Received: c, Unsupported: c, Reasons: map[string]int{}})
		}
	}
	return out
}

// pipeline prepares batches in order on the caller's goroutine (validation
// and dedup state is serial) and commits up to Options.Writers of them at
// once, each in its own transaction, so the database's cores work while Go
// prepares the next batch.
type pipeline struct {
	ctx      context.Context
	cancel   context.CancelFunc
	in       *Ingester
	progress Progress
	slots    chan struct{}
	wg       sync.WaitGroup
	mu       sync.Mutex // guards err and serialises progress calls
	err      error
}

func newPipeline(ctx context.Context, in *Ingester, progress Progress) *pipeline {
	ctx, cancel := context.WithCancel(ctx)
	return &pipeline{ctx: ctx, cancel: cancel, in: in, progress: progress, slots: make(chan struct{}, in.opts.Writers)}
}

// submit prepares items and starts their commit when a writer is free. It
// returns the first error any commit met (or the context's), after which
// the caller must stop submitting.
func (p *pipeline) submit(items []Item) error {
	if err := p.firstErr(); err != nil {
		return err
	}
	prepared := p.in.Prepare(items)
	select {
	case p.slots <- struct{}{}:
	case <-p.ctx.Done():
		p.fail(p.ctx.Err())
		return p.firstErr()
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer func() { <-p.slots }()
		if err := p.in.Commit(p.ctx, prepared); err != nil {
			p.fail(err)
			return
		}
		if p.progress != nil {
			p.mu.Lock()
			p.progress(p.in.Totals())
			p.mu.Unlock()
		}
	}()
	return nil
}

// wait lets every started commit finish and returns the first error.
func (p *pipeline) wait() error {
	p.wg.Wait()
	p.cancel()
	return p.firstErr()
}

func (p *pipeline) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err == nil {
		p.err = err
		p.cancel() // the other writers stop too: their batches roll back whole
	}
}

func (p *pipeline) firstErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}
