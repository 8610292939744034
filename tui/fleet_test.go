package tui

import (
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"hmperf/tui/servers"
)

// fleetModel is a dashboard over the fake primary and two replicas, on
// panel p, after one tick has polled p and the servers.
func fleetModel(t *testing.T, f *fakeSource, p Panel, clock func() time.Time) Model {
	t.Helper()
	f.fleet = fakeFleet()
	m := New(f, Options{Clock: clock, Panel: p})
	track := m.track
	t.Cleanup(func() { track.close(quitWait) })
	m, _ = update(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})
	return tick(t, m)
}

// tick runs one tick: the visible panel's poll and the header's.
func tick(t *testing.T, m Model) Model {
	t.Helper()
	m, cmd := update(t, m, tickMsg{gen: m.ticker.gen})
	return runBatch(t, m, cmd)
}

func TestFleetHeaderListsEveryServer(t *testing.T) {
	f := newFake()
	m := fleetModel(t, f, Overview, fixedClock)
	if f.count("servers") != 1 {
		t.Fatalf("one tick on Overview polled the servers %d times, want 1", f.count("servers"))
	}
	head := strings.Split(m.headerView(), "\n")
	if len(head) != 2 {
		t.Fatalf("header has %d lines with three servers, want 2: %q", len(head), head)
	}
	for _, want := range []string{"[db1 primary 17.6 up]", "db2 replica 17.6 up", "db3 replica 17.6 up"} {
		if !strings.Contains(head[1], want) {
			t.Errorf("servers line %q lacks %q", head[1], want)
		}
	}
	// The badge covers the set: db1's critical and db3's two warnings.
	if !strings.Contains(head[0], "▲ 1 CRITICAL") || !strings.Contains(head[0], "△ 2 WARNING") {
		t.Errorf("badge does not sum the servers' alerts: %q", head[0])
	}
	if got := strings.Count(m.View(), "\n") + 1; got != 24 {
		t.Errorf("the screen is %d lines with the extra header line, want 24", got)
	}
}

func TestServerGoesStaleThenDownThenUp(t *testing.T) {
	f := newFake()
	now := t0
	clock := func() time.Time { return now }
	m := fleetModel(t, f, Servers, clock)
	f.setDown(2, true)
	now = now.Add(2 * time.Second)
	m = tick(t, m)
	db3 := m.serverList()[2]
	if db3.State != servers.Stale || !db3.Since.Equal(now) {
		t.Fatalf("after one failed poll db3 is %q, want STALE since %s", db3.Label(), now.Format("15:04:05"))
	}
	if db3.Role != "replica" || db3.Connections != 2 {
		t.Fatalf("a stale server lost its last figures: %+v", db3.Server)
	}
	if h := m.headerView(); !strings.Contains(h, "db3 replica 17.6 STALE 12:00:02") {
		t.Fatalf("header does not show db3 stale: %q", h)
	}
	since := now
	now = now.Add(2 * time.Second)
	m = tick(t, m)
	db3 = m.serverList()[2]
	if db3.State != servers.Down || !db3.Since.Equal(since) {
		t.Fatalf("after two failed polls db3 is %q, want DOWN since %s", db3.Label(), since.Format("15:04:05"))
	}
	if b := m.alertBadge(); !strings.Contains(b, "1 CRITICAL") || !strings.Contains(b, "1 of 3 servers") {
		t.Fatalf("badge with a server down = %q, want the critical alert and the unknown server", b)
	}
	m = press(t, m, "j", "j") // the cursor on db3: its detail says why
	if v := m.View(); !strings.Contains(v, "DOWN 12:00:02") || !strings.Contains(v, "connection refused") {
		t.Fatalf("Servers panel does not show db3 down and why:\n%s", v)
	}
	if m.ticker.failures != 0 {
		t.Fatalf("a down server slowed the polling of the set: %d failures", m.ticker.failures)
	}
	f.setDown(2, false)
	m = tick(t, m)
	if db3 = m.serverList()[2]; db3.State != servers.Up {
		t.Fatalf("after a good poll db3 is %q, want up", db3.Label())
	}
}

func TestServerKeyCyclesTheServerPanelsRead(t *testing.T) {
	f := newFake()
	m := fleetModel(t, f, Constraints, fixedClock)
	if got := f.lastServer("constraints"); got != 0 {
		t.Fatalf("first poll read server %d, want 0 (the first given)", got)
	}
	m, cmd := update(t, m, keyMsg("s"))
	if cmd == nil {
		t.Fatal("s did not poll the visible panel")
	}
	m = runBatch(t, m, cmd)
	if got := f.lastServer("constraints"); got != 1 {
		t.Fatalf("after s the panel read server %d, want 1", got)
	}
	if h := m.headerView(); !strings.Contains(h, "showing db2") || !strings.Contains(h, "[db2 replica 17.6 up]") {
		t.Fatalf("header does not show db2 as the server shown: %q", h)
	}
	m = press(t, m, "s", "s")
	if m.shown != 0 {
		t.Fatalf("three presses of s with three servers show server %d, want 0", m.shown)
	}
}

func TestAnswerForTheServerNoLongerShownIsDropped(t *testing.T) {
	f := newFake()
	m := fleetModel(t, f, Alerts, fixedClock)
	old := m.fetch(Alerts) // a poll of db1 in flight
	m = press(t, m, "s")   // now showing db2
	if m.polls[Alerts].loaded {
		t.Fatal("after s the panel still counts db1's data as loaded")
	}
	m, _ = update(t, m, old())
	if f.lastServer("alerts") != 0 {
		t.Fatal("the old poll did not read db1")
	}
	if m.polls[Alerts].loaded {
		t.Fatal("the answer for db1 was shown as db2's")
	}
	if v := m.View(); !strings.Contains(v, "Loading Alerts") {
		t.Fatalf("the panel does not say it is loading db2's data:\n%s", v)
	}
}

func TestWritesSayTheyGoToThePrimary(t *testing.T) {
	f := newFake()
	m := fleetModel(t, f, Benchmarks, fixedClock)
	m = press(t, m, "s", "b") // a replica is shown
	if m.confirm == nil {
		t.Fatal("b opened no confirmation")
	}
	if !strings.HasPrefix(m.confirm.prompt, "On the primary, db1 (writes never go to a replica)") {
		t.Fatalf("prompt does not say where the write goes: %q", m.confirm.prompt)
	}
}

func TestSingleServerHasNoServerKeyNorExtraLine(t *testing.T) {
	f := newFake()
	m := loadedModel(t, f, Overview, Options{})
	if strings.Contains(m.headerView(), "\n") {
		t.Fatal("one server got a servers line")
	}
	if m.keys.Server.Enabled() {
		t.Fatal("s is enabled with one server")
	}
	if m = press(t, m, "s"); m.shown != 0 {
		t.Fatal("s changed the server shown with one server")
	}
}
