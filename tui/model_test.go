package tui

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"hmperf/tui/ingest"
	"hmperf/tui/pane"
	"hmperf/tui/source"
)

// keyMsg builds the message of a key press as bubbletea reports it.
func keyMsg(s string) tea.KeyMsg {
	switch s {
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "ctrl+c":
		return tea.KeyMsg{Type: tea.KeyCtrlC}
	case " ":
		return tea.KeyMsg{Type: tea.KeySpace, Runes: []rune(" ")}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

// update applies msg and returns the new model and its command.
func update(t *testing.T, m Model, msg tea.Msg) (Model, tea.Cmd) {
	t.Helper()
	next, cmd := m.Update(msg)
	return next.(Model), cmd
}

// press applies a sequence of keys, ignoring commands.
func press(t *testing.T, m Model, keys ...string) Model {
	t.Helper()
	for _, k := range keys {
		m, _ = update(t, m, keyMsg(k))
	}
	return m
}

// typeText types s one rune at a time.
func typeText(t *testing.T, m Model, s string) Model {
	t.Helper()
	for _, r := range s {
		m = press(t, m, string(r))
	}
	return m
}

// loadedModel returns a model on panel p at w×h with the fake's data in.
func loadedModel(t *testing.T, f *fakeSource, p Panel, opts Options) Model {
	t.Helper()
	if opts.Clock == nil {
		opts.Clock = fixedClock
	}
	opts.Panel = p
	m := New(f, opts)
	m, _ = update(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})
	m, _ = update(t, m, m.fetch(p)())
	if !m.polls[p].loaded {
		t.Fatalf("panel %s did not load: %v", p, m.polls[p].err)
	}
	return m
}

func TestLateAnswerOfAbandonedRequestIsDropped(t *testing.T) {
	now := t0
	clock := func() time.Time { return now }
	m := New(newFake(), Options{Clock: clock, Panel: Alerts, QueryTimeout: time.Second})
	first := m.fetch(Alerts)
	if first == nil {
		t.Fatal("first fetch returned no command")
	}
	now = now.Add(2 * time.Second) // the first request is past its timeout
	second := m.fetch(Alerts)
	if second == nil {
		t.Fatal("a request past its timeout should be given up on")
	}
	m, _ = update(t, m, dataMsg{panel: Alerts, gen: 1, data: fakeAlerts()})
	if m.polls[Alerts].loaded {
		t.Fatal("answer of generation 1 was applied after generation 2 was sent")
	}
	if !m.polls[Alerts].inFlight {
		t.Fatal("a dropped answer must not clear the current request")
	}
	m, _ = update(t, m, second())
	if !m.polls[Alerts].loaded || m.polls[Alerts].inFlight {
		t.Fatalf("current answer not applied: %+v", m.polls[Alerts])
	}
}

func TestOnePollInFlightPerPanel(t *testing.T) {
	m := New(newFake(), Options{Clock: fixedClock})
	if m.fetch(Overview) == nil {
		t.Fatal("first fetch returned no command")
	}
	if m.fetch(Overview) != nil {
		t.Fatal("second fetch while the first is in flight returned a command")
	}
	m, _ = update(t, m, tickMsg{gen: m.ticker.gen})
	if m.polls[Overview].gen != 1 {
		t.Fatalf("tick sent a second request: gen %d", m.polls[Overview].gen)
	}
	if m.fetch(Alerts) == nil {
		t.Fatal("another panel is limited by this panel's request")
	}
}

func TestBackoffOnErrorThenRecovery(t *testing.T) {
	f := newFake()
	f.failing = true
	m := New(f, Options{Clock: fixedClock})
	want := []time.Duration{4 * time.Second, 4 * time.Second, 4 * time.Second, 4 * time.Second, 4 * time.Second}
	for i, w := range want {
		cmd := m.fetch(Overview)
		m, _ = update(t, m, cmd())
		if got := m.ticker.delay(); got != w {
			t.Fatalf("after %d failures delay = %s, want %s", i+1, got, w)
		}
	}
	if m.polls[Overview].staleSince != t0 || !errors.Is(m.polls[Overview].err, errConn) {
		t.Fatalf("poll state after failures: %+v", m.polls[Overview])
	}
	f.setFailing(false)
	m, _ = update(t, m, m.fetch(Overview)())
	if got := m.ticker.delay(); got != DefaultInterval {
		t.Fatalf("after recovery delay = %s, want %s", got, DefaultInterval)
	}
	if !m.polls[Overview].staleSince.IsZero() || m.polls[Overview].err != nil {
		t.Fatalf("stale state not cleared: %+v", m.polls[Overview])
	}
}

func TestStaleDataKeptAndMarked(t *testing.T) {
	f := newFake()
	m := loadedModel(t, f, Alerts, Options{})
	f.setFailing(true)
	m, _ = update(t, m, m.fetch(Alerts)())
	v := m.View()
	if !strings.Contains(v, "STALE since 12:00:00") || !strings.Contains(v, "constraint_overhead") {
		t.Fatalf("stale view lacks the badge or the last data:\n%s", v)
	}
}

func TestTickIgnoredWhenSupersededOrPaused(t *testing.T) {
	m := New(newFake(), Options{Clock: fixedClock})
	old := m.ticker.gen
	m = press(t, m, "+") // restarts the ticker
	if _, cmd := update(t, m, tickMsg{gen: old}); cmd != nil {
		t.Fatal("a tick of a superseded schedule started work")
	}
	m = press(t, m, " ")
	if !m.ticker.paused || !strings.Contains(m.View(), "PAUSED") {
		t.Fatal("space did not pause")
	}
	if _, cmd := update(t, m, tickMsg{gen: m.ticker.gen}); cmd != nil {
		t.Fatal("a tick polled while paused")
	}
}

func TestIntervalSteps(t *testing.T) {
	m := New(newFake(), Options{Clock: fixedClock})
	m = press(t, m, "+", "+", "+", "+")
	if m.ticker.interval != MinInterval {
		t.Fatalf("interval after four + = %s, want %s", m.ticker.interval, MinInterval)
	}
	m = press(t, m, "-", "-", "-", "-", "-", "-")
	if m.ticker.interval != MaxInterval {
		t.Fatalf("interval after six - = %s, want %s", m.ticker.interval, MaxInterval)
	}
}

func TestReadOnlyDisablesWriteKeys(t *testing.T) {
	f := newFake()
	f.readOnly = true
	for _, p := range []Panel{Indexes, Benchmarks, Ingest, Migrations} {
		m := loadedModel(t, f, p, Options{})
		for _, b := range m.writeKeys() {
			if b.Enabled() {
				t.Errorf("%s: %q enabled in read-only mode", p, b.Help().Key)
			}
		}
		m = press(t, m, "b", "i", "p", "u", "d", "f")
		if m.confirm != nil {
			t.Errorf("%s: a write key opened a confirmation in read-only mode", p)
		}
	}
	m := press(t, loadedModel(t, f, Benchmarks, Options{}), "?")
	if v := m.View(); !strings.Contains(v, "(read-only)") || !strings.Contains(v, "READ-ONLY") {
		t.Fatalf("help does not show the read-only keys:\n%s", v)
	}
}

func TestPanelKeysDisabledElsewhere(t *testing.T) {
	m := loadedModel(t, newFake(), Overview, Options{})
	for _, b := range append(m.writeKeys(), m.keys.Filter, m.keys.Export) {
		if b.Enabled() {
			t.Errorf("%q enabled on the overview", b.Help().Key)
		}
	}
	m = press(t, m, "5")
	bench, ingest := panelKey(t, m, "b").Enabled(), panelKey(t, m, "i").Enabled()
	if m.active != Benchmarks || !bench || ingest {
		t.Fatalf("keys on benchmarks: bench %v ingest %v", bench, ingest)
	}
}

func TestFilter(t *testing.T) {
	m := loadedModel(t, newFake(), Alerts, Options{})
	m = press(t, m, "/")
	m = typeText(t, m, "cache")
	tbl := m.panel(Alerts).Table()
	if tbl.Shown() != 1 || tbl.Total() != 3 {
		t.Fatalf("filter cache: shown %d of %d, want 1 of 3", tbl.Shown(), tbl.Total())
	}
	m = press(t, m, "enter")
	if m.filtering || m.panel(Alerts).Table().Shown() != 1 {
		t.Fatal("enter did not keep the filter")
	}
	m = press(t, m, "/", "esc")
	if got := m.panel(Alerts).Table().Shown(); got != 3 {
		t.Fatalf("esc left %d rows, want 3", got)
	}
}

func TestExportWritesCSV(t *testing.T) {
	dir := t.TempDir()
	m := loadedModel(t, newFake(), Alerts, Options{ExportDir: dir})
	m = typeText(t, press(t, m, "/"), "WARNING")
	m = press(t, m, "enter")
	m, cmd := update(t, m, keyMsg("e"))
	if cmd == nil {
		t.Fatal("e returned no command")
	}
	m, _ = update(t, m, cmd())
	path := filepath.Join(dir, "hmperf-alerts-20250314-120000.csv")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "Severity,Alert,Table") {
		t.Fatalf("CSV has %d lines, want a header and 2 filtered rows:\n%s", len(lines), data)
	}
	if !strings.Contains(m.View(), "exported 2 rows to") {
		t.Fatalf("status bar does not show the export:\n%s", m.View())
	}
}

func TestMigrateUpNeedsTypedConfirmation(t *testing.T) {
	f := newFake()
	m := loadedModel(t, f, Migrations, Options{})
	m = press(t, m, "u")
	if m.confirm == nil || m.confirm.want != "yes" {
		t.Fatal("u did not ask for a typed confirmation")
	}
	m = press(t, m, "y") // a single y is not enough
	m, cmd := update(t, m, keyMsg("enter"))
	if cmd != nil || m.confirm == nil || m.confirm.err == "" {
		t.Fatal("a wrong confirmation was accepted")
	}
	m = typeText(t, press(t, m, "ctrl+c"), "")
	if m.confirm != nil {
		t.Fatal("ctrl+c did not cancel the confirmation")
	}
	m = typeText(t, press(t, m, "u"), "yes")
	m, cmd = update(t, m, keyMsg("enter"))
	if cmd == nil || m.jobs.migration == "" {
		t.Fatal("typing yes did not start the migration")
	}
	m, _ = update(t, m, cmd())
	if len(f.actions) != 1 || f.actions[0] != "up" || m.jobs.migration != "" {
		t.Fatalf("actions %v, migration %q", f.actions, m.jobs.migration)
	}
}

func TestMigrateDownNeedsVersion(t *testing.T) {
	f := newFake()
	m := loadedModel(t, f, Migrations, Options{})
	m = typeText(t, press(t, m, "d"), "yes")
	if _, cmd := update(t, m, keyMsg("enter")); cmd != nil {
		t.Fatal("down accepted yes instead of the version")
	}
	m = typeText(t, press(t, m, "esc", "d"), "22")
	m, cmd := update(t, m, keyMsg("enter"))
	update(t, m, cmd())
	if len(f.actions) != 1 || f.actions[0] != "down 1" {
		t.Fatalf("actions %v", f.actions)
	}
}

func TestForceOnlyWhenDirtyWithTypedVersion(t *testing.T) {
	f := newFake()
	m := loadedModel(t, f, Migrations, Options{})
	if panelKey(t, m, "f").Enabled() {
		t.Fatal("force enabled on a clean database")
	}
	m, _ = update(t, m, dataMsg{panel: Migrations, gen: m.polls[Migrations].gen, data: fakeMigrations(true)})
	if !panelKey(t, m, "f").Enabled() || panelKey(t, m, "u").Enabled() {
		t.Fatal("dirty database: force should be the only migration key")
	}
	if !strings.Contains(m.View(), "DIRTY: migration 22 failed") {
		t.Fatalf("dirty state not shown:\n%s", m.View())
	}
	m = typeText(t, press(t, m, "f"), "abc")
	if _, cmd := update(t, m, keyMsg("enter")); cmd != nil {
		t.Fatal("force accepted a non-number")
	}
	m = typeText(t, press(t, m, "esc", "f"), "21")
	m, cmd := update(t, m, keyMsg("enter"))
	m, _ = update(t, m, cmd())
	if len(f.actions) != 1 || f.actions[0] != "force 21" {
		t.Fatalf("actions %v", f.actions)
	}
}

func TestQuitConfirmWhileJobRuns(t *testing.T) {
	f := newFake()
	m := loadedModel(t, f, Ingest, Options{})
	if _, cmd := update(t, m, keyMsg("q")); cmd == nil || cmd() != tea.Quit() {
		t.Fatal("q with no job running did not quit")
	}
	m = press(t, m, "i", "y")
	if !m.jobs.ingest {
		t.Fatal("confirmed i did not start the ingest")
	}
	m, cmd := update(t, m, keyMsg("q"))
	if cmd != nil || m.confirm == nil || !m.confirm.quit {
		t.Fatal("q while the ingest runs did not ask")
	}
	m = press(t, m, "n")
	if m.confirm != nil {
		t.Fatal("n did not close the quit confirmation")
	}
	m = press(t, m, "ctrl+c")
	if _, cmd = update(t, m, keyMsg("y")); cmd == nil {
		t.Fatal("confirmed quit returned no command")
	}
}

// TestIngestStartedBeforeDashboard: an ingest the command started before
// the dashboard (embedded mode) shows as running, quitting asks first, and i
// stops it without asking.
func TestIngestStartedBeforeDashboard(t *testing.T) {
	f := newFake()
	m := loadedModel(t, f, Ingest, Options{IngestRunning: true})
	if !m.jobs.ingest {
		t.Fatal("IngestRunning did not mark the ingest as running")
	}
	if m2, cmd := update(t, m, keyMsg("q")); cmd != nil || m2.confirm == nil || !m2.confirm.quit {
		t.Fatal("q while the pre-started ingest runs did not ask")
	}
	if m = press(t, m, "i"); m.jobs.ingest || m.confirm != nil {
		t.Fatal("i did not stop the pre-started ingest at once")
	}
}

// TestIngestTarget: the Ingest panel and i's confirmation say where the
// generated rows go, and a target not known yet is said to be so.
func TestIngestTarget(t *testing.T) {
	for _, tt := range []struct {
		target source.WriteTarget
		prompt string
	}{
		{source.TargetSandbox, "Start a sample ingest, writing generated rows to the sandbox hmperf_sandbox (live tables untouched)?"},
		{source.TargetLive, "Start a sample ingest, writing generated rows to the live tables?"},
		{source.TargetUnknown, "Start a sample ingest? Where it writes is not known yet"},
	} {
		if got := ingest.Prompt(tt.target); !strings.HasPrefix(got, tt.prompt) {
			t.Errorf("%v: prompt %q, want %q", tt.target, got, tt.prompt)
		}
	}
	f := newFake()
	m := loadedModel(t, f, Ingest, Options{})
	if v := m.View(); !strings.Contains(v, "i writes generated rows to the sandbox hmperf_sandbox (live tables untouched)") {
		t.Fatalf("the stopped panel does not say where i writes:\n%s", v)
	}
	m = press(t, m, "i")
	if m.confirm == nil || m.confirm.prompt != ingest.Prompt(source.TargetSandbox) {
		t.Fatalf("i asked %+v", m.confirm)
	}
	m = press(t, m, "y")
	if v := m.View(); !m.jobs.ingest || !strings.Contains(v, "writing generated rows to the sandbox hmperf_sandbox (live tables untouched)") {
		t.Fatalf("running: %v\n%s", m.jobs.ingest, v)
	}
}

// TestBenchPromptSaysWhereRowsGo: b's confirmation says the rows go to
// scratch copies and the service's tables are not touched.
func TestBenchPromptSaysWhereRowsGo(t *testing.T) {
	m := loadedModel(t, newFake(), Benchmarks, Options{})
	m = press(t, m, "b")
	if m.confirm == nil || m.confirm.job != pane.JobBench {
		t.Fatalf("b asked %+v", m.confirm)
	}
	for _, want := range []string{"scratch copies in schema hmperf_scratch_N", "built from the live catalogue",
		"dropped at the end", "the service's tables, sequences and users are not touched"} {
		if !strings.Contains(m.confirm.prompt, want) {
			t.Errorf("prompt %q does not say %q", m.confirm.prompt, want)
		}
	}
}

// TestDeadIngestShows: an ingest whose goroutine ended on an error is
// shown stopped, with its error on the panel and in the status line.
func TestDeadIngestShows(t *testing.T) {
	f := newFake()
	m := loadedModel(t, f, Ingest, Options{IngestRunning: true})
	f.mu.Lock()
	f.ingestFailed = "cannot write public.sleep_metrics: public.sleep_metrics.quality: no such column (hmperf always has a value for it)"
	f.mu.Unlock()
	m, _ = update(t, m, m.fetch(Ingest)())
	v := m.View()
	if m.jobs.ingest || !strings.Contains(v, "sample ingest STOPPED on an error: cannot write public.sleep_metrics") ||
		!strings.Contains(v, "sample ingest stopped (i starts one)") {
		t.Fatalf("dead ingest: running %v\n%s", m.jobs.ingest, v)
	}
	if !strings.Contains(m.status, "public.sleep_metrics.quality: no such column") {
		t.Errorf("status %q does not carry the error", m.status)
	}
	for i, line := range strings.Split(v, "\n") {
		if w := lipgloss.Width(line); w > 80 {
			t.Errorf("line %d is %d cells wide: %q", i, w, line)
		}
	}
	if _, cmd := update(t, m, keyMsg("q")); cmd == nil || cmd() != tea.Quit() {
		t.Error("q after the ingest died still asks: nothing runs")
	}
}

func TestBenchmarkCancelWithEsc(t *testing.T) {
	f := newFake()
	m := loadedModel(t, f, Benchmarks, Options{})
	m = press(t, m, "right") // nutrition
	m, _ = update(t, m, keyMsg("b"))
	if m.confirm == nil || m.confirm.arg != "nutrition" {
		t.Fatalf("b did not ask to run the selected table: %+v", m.confirm)
	}
	m, cmd := update(t, m, keyMsg("y"))
	m, cmd = update(t, m, cmd()) // first progress event
	ctx := <-f.benchCtx
	if !strings.Contains(m.View(), "running nutrition optimized rep 1/3") {
		t.Fatalf("progress not shown:\n%s", m.View())
	}
	m, _ = update(t, m, keyMsg("esc"))
	select {
	case <-ctx.Done():
	case <-time.After(time.Second):
		t.Fatal("esc did not cancel the benchmark's context")
	}
	m, _ = update(t, m, cmd()) // the run's last event
	if m.jobs.bench != nil || !strings.Contains(m.status, "cancelled") {
		t.Fatalf("after cancel: bench running %v, status %q", m.jobs.bench != nil, m.status)
	}
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Fatalf("context error %v", ctx.Err())
	}
}

func TestBenchEventsOfOldRunDropped(t *testing.T) {
	m := loadedModel(t, newFake(), Benchmarks, Options{})
	m.jobs.benchRun = 2
	p := source.BenchProgress{Table: "old"}
	if _, cmd := update(t, m, benchMsg{run: 1, progress: &p}); cmd != nil {
		t.Fatal("event of an old run was handled")
	}
}

func TestResizeStacksOnNarrowTerminals(t *testing.T) {
	m := loadedModel(t, newFake(), Overview, Options{})
	narrow := m.View()
	m, _ = update(t, m, tea.WindowSizeMsg{Width: 160, Height: 48})
	wide := m.View()
	lineWith := func(v, s string) string {
		for _, l := range strings.Split(v, "\n") {
			if strings.Contains(l, s) {
				return l
			}
		}
		return ""
	}
	if strings.Contains(lineWith(narrow, "Database"), "Ingest rate") {
		t.Fatal("80 columns: summary and sparkline side by side")
	}
	if !strings.Contains(lineWith(wide, "Database"), "Ingest rate") {
		t.Fatal("160 columns: summary and sparkline not side by side")
	}
	for _, v := range []string{narrow, wide} {
		if n := strings.Count(v, "\n") + 1; n != 24 && n != 48 {
			t.Fatalf("view has %d lines", n)
		}
	}
}

// TestHeaderShowsAlertsOnEveryPanel: on a panel that does not carry the
// alerts, each tick also polls them for the header's badge; that background
// poll neither drives the backoff nor hides its failure.
func TestHeaderShowsAlertsOnEveryPanel(t *testing.T) {
	f := newFake()
	m := loadedModel(t, f, Ingest, Options{})
	track := m.track
	t.Cleanup(func() { track.close(quitWait) }) // ends the ticks runBatch leaves waiting
	if strings.Contains(m.headerView(), "CRITICAL") {
		t.Fatal("header shows alert counts before any alert poll")
	}
	m, cmd := update(t, m, tickMsg{gen: m.ticker.gen})
	m = runBatch(t, m, cmd)
	if f.count("alerts") != 1 {
		t.Fatalf("a tick on Ingest polled the alerts %d times, want 1", f.count("alerts"))
	}
	if h := m.headerView(); !strings.Contains(h, "▲ 1 CRITICAL") || !strings.Contains(h, "△ 2 WARNING") {
		t.Fatalf("header lacks the alert counts: %q", h)
	}
	f.setFailing(true)
	m, cmd = update(t, m, tickMsg{gen: m.ticker.gen})
	m = runBatch(t, m, cmd)
	if m.ticker.failures != 1 {
		t.Fatalf("ticker failures = %d after one failed tick, want 1 (the background poll must not count)", m.ticker.failures)
	}
	if m.polls[Alerts].staleSince.IsZero() {
		t.Fatal("the failed background poll did not mark the alert counts stale")
	}

	quiet := newFake()
	quiet.noAlerts = true
	m = loadedModel(t, quiet, Alerts, Options{})
	if h := m.headerView(); !strings.Contains(h, "no alerts firing") {
		t.Fatalf("header with no firing alert: %q", h)
	}
}

// runBatch runs the commands of a tick (polls; the next tick is skipped, it
// would sleep) and applies their answers.
func runBatch(t *testing.T, m Model, cmd tea.Cmd) Model {
	t.Helper()
	msg := cmd()
	batch, ok := msg.(tea.BatchMsg)
	if !ok {
		batch = tea.BatchMsg{func() tea.Msg { return msg }}
	}
	for _, c := range batch {
		if c == nil {
			continue
		}
		done := make(chan tea.Msg, 1)
		go func() { done <- c() }()
		select {
		case msg := <-done:
			if _, isData := msg.(dataMsg); isData {
				m, _ = update(t, m, msg)
			}
		case <-time.After(100 * time.Millisecond): // the tick's timer
		}
	}
	return m
}
