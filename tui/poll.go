package tui

import (
	"context"
	"errors"
	"fmt"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"hmperf/tui/format"
	"hmperf/tui/pane"
	"hmperf/tui/source"
)

// pollState is the polling bookkeeping of one panel.
type pollState struct {
	gen        uint64    // id of the latest request; answers to older ones are dropped
	inFlight   bool      // a request with id gen has not answered yet
	sentAt     time.Time // when it was sent
	loaded     bool      // some data has arrived
	err        error     // the last request's error, nil after a success
	staleSince time.Time // first failure since the last success
}

// ticker drives the refresh. Each (re)start bumps gen, so the ticks of a
// superseded schedule are ignored instead of piling up.
type ticker struct {
	gen       int
	interval  time.Duration
	paused    bool
	failures  int           // consecutive failed polls
	lastQuery time.Duration // duration of the last answered poll
	// superseded is closed when the pending tick is no longer wanted, so
	// that its goroutine ends at once instead of sleeping out its delay.
	superseded chan struct{}
}

// tickMsg asks for a poll of the visible panel.
type tickMsg struct{ gen int }

// dataMsg is the answer to a poll.
type dataMsg struct {
	panel Panel
	gen   uint64
	data  any
	err   error
	took  time.Duration
	// background marks the header's poll of the alerts, made while another
	// panel is visible: it neither sets the status bar's query time nor
	// drives the backoff, which follow the visible panel.
	background bool
}

// delay is the time to the next poll: the interval, and twice the interval
// while the source of a single server fails. Backing off further would keep a recovered
// server's data off the screen for longer than two refresh intervals, which
// is how soon it should come back; a refused connection costs the server
// nothing, and a hung one is bounded by the query timeout and by the one
// poll in flight per panel.
func (t ticker) delay() time.Duration {
	if t.failures > 0 {
		return 2 * t.interval
	}
	return t.interval
}

// schedule returns the command for the next tick, or nil when paused. The
// command waits on a timer it stops when its tick is superseded or the
// dashboard quits: no sleeping goroutine outlives its use.
func (t *ticker) schedule(track *tracker) tea.Cmd {
	if t.paused {
		return nil
	}
	gen, d := t.gen, t.delay()
	superseded := make(chan struct{})
	t.superseded = superseded
	return track.cmd(func() tea.Msg {
		timer := time.NewTimer(d)
		defer timer.Stop()
		select {
		case <-timer.C:
			return tickMsg{gen: gen}
		case <-superseded:
		case <-track.stopping:
		}
		return nil
	})
}

// supersede drops the pending tick.
func (t *ticker) supersede() {
	t.gen++
	if t.superseded != nil {
		close(t.superseded)
		t.superseded = nil
	}
}

// restart supersedes the pending tick and schedules a new one.
func (t *ticker) restart(track *tracker) tea.Cmd {
	t.supersede()
	return t.schedule(track)
}

func (m *Model) handleTick(msg tickMsg) tea.Cmd {
	if msg.gen != m.ticker.gen || m.ticker.paused {
		return nil
	}
	return tea.Batch(m.fetch(m.active), m.fetchHeader(), m.ticker.schedule(m.track))
}

// fetchHeader polls what the header shows on every panel. With one
// server that is the alerts behind its badge (Overview, with its counts,
// and Alerts, with its rows, already carry them); with several it is every
// server's state and alerts, which the Servers panel carries.
func (m *Model) fetchHeader() tea.Cmd {
	shows := m.panel(m.active).Header()
	want := pane.HeaderAlerts
	switch {
	case m.fleet() && shows == pane.HeaderServers:
		return nil
	case m.fleet():
		want = pane.HeaderServers
	case shows == pane.HeaderAlertCounts || shows == pane.HeaderAlerts:
		return nil
	}
	p, ok := m.find(want)
	if !ok {
		return nil
	}
	return m.poll(p, true)
}

// fetch polls panel p unless a request for it is still in flight. A request
// older than the query timeout is given up on (its late answer will be
// dropped), so a source that ignores its context cannot stall a panel.
func (m *Model) fetch(p Panel) tea.Cmd { return m.poll(p, false) }

// poll is fetch, for the visible panel or (background) for the header.
func (m *Model) poll(p Panel, background bool) tea.Cmd {
	ps := &m.polls[p]
	now := m.opts.Clock()
	if ps.inFlight && now.Sub(ps.sentAt) < m.opts.QueryTimeout {
		return nil
	}
	ps.gen++
	ps.inFlight, ps.sentAt = true, now
	// Copy what the command needs: it runs on another goroutine and must
	// not read the model.
	ctx, src, gen, timeout, clock := source.WithServer(m.ctx, m.shown), m.src, ps.gen, m.opts.QueryTimeout, m.opts.Clock
	query := m.panel(p).Poll
	return m.track.cmd(func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		start := clock()
		data, err := query(ctx, src)
		return dataMsg{panel: p, gen: gen, data: data, err: err, took: clock().Sub(start), background: background}
	})
}

// handleData applies an answer. On failure the panel keeps its data, marked
// stale, and polling backs off; the first success resets both.
func (m *Model) handleData(msg dataMsg) tea.Cmd {
	ps := &m.polls[msg.panel]
	if msg.gen != ps.gen {
		return nil
	}
	ps.inFlight = false
	if msg.err != nil {
		ps.err = msg.err
		if ps.staleSince.IsZero() {
			ps.staleSince = m.opts.Clock()
		}
		if h := m.panel(msg.panel).Header(); h == pane.HeaderAlertCounts || h == pane.HeaderAlerts {
			m.firing = uncheckedAlerts(msg.panel, msg.err)
		}
	} else {
		ps.err, ps.staleSince, ps.loaded = nil, time.Time{}, true
		m.panel(msg.panel).Apply(msg.data, m.opts.Clock())
		m.observe(msg.panel, msg.data)
	}
	if msg.background {
		return nil
	}
	m.ticker.lastQuery = msg.took
	switch {
	case msg.err != nil && m.fleet():
		// The other servers still need watching at the set pace: a server
		// that fails is told from the Servers poll, not by slowing down.
		return nil
	case msg.err != nil:
		m.ticker.failures++
		return m.ticker.restart(m.track)
	case m.ticker.failures == 0:
		return nil
	}
	m.ticker.failures = 0
	return m.ticker.restart(m.track)
}

// observe takes from a panel's data what the root itself shows: the
// header's badge and server, and whether the sample ingest still runs.
func (m *Model) observe(p Panel, data any) {
	switch d := data.(type) {
	case source.Overview:
		m.server, m.serverVersion = d.Server, d.ServerVersion
		m.firing = alertCounts{from: p, known: true, critical: d.CriticalAlerts, warning: d.WarningAlerts}
		if d.AlertsUnknown != "" {
			m.firing = uncheckedAlerts(p, errors.New(d.AlertsUnknown))
		}
	case []source.Alert:
		m.firing = countAlerts(p, d)
	case source.IngestStats:
		m.ingestEnded(d)
	}
}

// togglePause stops or restarts polling; resuming polls at once.
func (m *Model) togglePause() tea.Cmd {
	m.ticker.paused = !m.ticker.paused
	if m.ticker.paused {
		m.ticker.supersede() // drop the tick already scheduled
		return nil
	}
	return tea.Batch(m.fetch(m.active), m.ticker.restart(m.track))
}

// intervalSteps are the refresh intervals + and - step through.
func intervalSteps() []time.Duration {
	return []time.Duration{
		500 * time.Millisecond, time.Second, 2 * time.Second,
		5 * time.Second, 10 * time.Second,
	}
}

// changeInterval moves the refresh interval one step shorter (dir < 0) or
// longer (dir > 0).
func (m *Model) changeInterval(dir int) tea.Cmd {
	steps := intervalSteps()
	cur := m.ticker.interval
	next := cur
	if dir < 0 {
		for i := len(steps) - 1; i >= 0; i-- {
			if steps[i] < cur {
				next = steps[i]
				break
			}
		}
	} else {
		for _, s := range steps {
			if s > cur {
				next = s
				break
			}
		}
	}
	m.ticker.interval = next
	m.status = "refresh every " + interval(next)
	return m.ticker.restart(m.track)
}

// interval renders a refresh interval: "500ms", "2s".
func interval(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return format.Float(d.Seconds(), 0) + "s"
}
