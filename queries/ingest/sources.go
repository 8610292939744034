package ingest

import (
	"context"
	"io"
	"sort"

	"hmperf/engine"
)

// Progress is called after each committed batch with the run's totals.
type Progress func(Totals)

// RunSample draws n samples from g and writes them batchSize at a time.
func RunSample(ctx context.Context, in *Ingester, g *engine.Generator, n, batchSize int, progress Progress) error {
	if batchSize <= 0 {
		batchSize = 5000
	}
	samples := make([]engine.Sample, batchSize)
	items := make([]Item, 0, batchSize)
	for done := 0; done < n; {
		if err := ctx.Err(); err != nil {
			return err
		}
		size := min(batchSize, n-done)
		g.Fill(samples[:size])
		items = items[:0]
		for i, s := range samples[:size] {
			items = append(items, Item{Index: int64(done + i), Type: s.Record.Kind().String(), Record: s.Record})
		}
		if err := in.Write(ctx, items); err != nil {
			return err
		}
		done += size
		if progress != nil {
			progress(in.Totals())
		}
	}
	return nil
}

// RunFile decodes an ingest payload as a stream and writes it batchSize
// records at a time. Types without a table are counted as unsupported in a
// last batch, since the decoder only counts them.
func RunFile(ctx context.Context, in *Ingester, r io.Reader, batchSize int, progress Progress) error {
	items := make([]Item, 0, batchSize)
	sum, err := engine.DecodePayload(r, engine.DecodeOptions{BatchSize: batchSize}, func(batch []engine.Decoded) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		items = items[:0]
		for _, d := range batch {
			items = append(items, decodedItem(d))
		}
		if err := in.Write(ctx, items); err != nil {
			return err
		}
		if progress != nil {
			progress(in.Totals())
		}
		return nil
	})
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

func writeUnsupported(ctx context.Context, in *Ingester, counts map[string]int) error {
	if len(counts) == 0 {
		return nil
	}
	types := make([]string, 0, len(counts))
	for t := range counts {
		types = append(types, t)
	}
	sort.Strings(types)
	var items []Item
	for _, t := range types {
		for range counts[t] {
			items = append(items, Item{Index: -1, Type: t, Unsupported: true})
		}
	}
	return in.Write(ctx, items)
}
