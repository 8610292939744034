package bench

import "testing"

// TestSummarizeFeed reduces known samples: medians of odd and even counts,
// the extremes of the paired overheads, and the shares of the median batch.
func TestSummarizeFeed(t *testing.T) {
	s := feedSamples{
		with:   []float64{12, 10, 30, 11},
		none:   []float64{10, 8, 20, 9},
		pct:    []float64{20, 25, 50, 22.2},
		feedMs: []float64{3, 1, 2},
		trigMs: []float64{0.5, 1.5, 0.25, 9},
	}
	fo := summarizeFeed(FeedOptions{Batches: 4, BatchSize: 7}, s)
	want := FeedOverhead{Batches: 4, BatchSize: 7, MedianWithMs: 11.5, MedianNoneMs: 9.5,
		OverheadPct: 23.6, MinPct: 20, MaxPct: 50, FeedMs: 2, FeedPct: 2 / 9.5 * 100}
	got := fo
	got.TriggersMs, got.TriggersPct = nil, nil
	if !near(got.OverheadPct, want.OverheadPct) || !near(got.FeedPct, want.FeedPct) {
		t.Errorf("overhead %v%%, feed %v%%; want %v%%, %v%%", got.OverheadPct, got.FeedPct, want.OverheadPct, want.FeedPct)
	}
	got.OverheadPct, got.FeedPct = want.OverheadPct, want.FeedPct
	if got != want {
		t.Errorf("summary\n got %+v\nwant %+v", got, want)
	}
	if fo.TriggersMs == nil || *fo.TriggersMs != 1 || fo.TriggersPct == nil || !near(*fo.TriggersPct, 1/9.5*100) {
		t.Errorf("triggers' share %v ms, %v%%; want 1 ms, %v%%", fo.TriggersMs, fo.TriggersPct, 1/9.5*100)
	}
	s.trigMs = nil
	if fo := summarizeFeed(FeedOptions{Batches: 4}, s); fo.TriggersMs != nil || fo.TriggersPct != nil {
		t.Errorf("no trigger samples gave a triggers' share %v ms, %v%%", fo.TriggersMs, fo.TriggersPct)
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }
