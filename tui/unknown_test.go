package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"hmperf/tui/source"
)

// TestAlertsUnknownInHeader: when the alert check cannot run, the header
// says UNKNOWN with the reason, never "no alerts firing" and never the
// counts of an earlier check; a check that runs again brings the counts back.
func TestAlertsUnknownInHeader(t *testing.T) {
	f := newFake()
	m := loadedModel(t, f, Alerts, Options{})
	if h := m.headerView(); !strings.Contains(h, "▲ 1 CRITICAL") {
		t.Fatalf("header before the check fails: %q", h)
	}
	f.mu.Lock()
	f.bare = true
	f.mu.Unlock()
	m, _ = update(t, m, m.fetch(Alerts)())
	h := m.headerView()
	if !strings.Contains(h, "alerts UNKNOWN: function check_constr") || strings.Contains(h, "CRITICAL") || strings.Contains(h, "no alerts") {
		t.Errorf("header after a failed check: %q", h)
	}
	if w := lipgloss.Width(h); w != 80 {
		t.Errorf("header is %d cells wide, want 80", w)
	}

	// The overview's own check, as the Overview panel polls it.
	m = loadedModel(t, f, Overview, Options{})
	if h := m.headerView(); !strings.Contains(h, "alerts UNKNOWN") || strings.Contains(h, "no alerts") {
		t.Errorf("header from an overview whose check could not run: %q", h)
	}
	if v := ansi.Strip(m.View()); !strings.Contains(v, "Alerts      UNKNOWN: function check_constraint_performance_alerts()") ||
		strings.Contains(v, "OK, none firing") {
		t.Errorf("overview does not say UNKNOWN:\n%s", v)
	}

	f.mu.Lock()
	f.bare = false
	f.mu.Unlock()
	m, _ = update(t, m, m.fetch(Overview)())
	if h := m.headerView(); strings.Contains(h, "UNKNOWN") || !strings.Contains(h, "▲ 1 CRITICAL") {
		t.Errorf("header after the check runs again: %q", h)
	}
}

// TestMissingObjectWraps: a panel whose object is missing says what and how
// to add it, wrapped at 80 columns, with none of it cut off; a refused
// privilege says so instead of "missing".
func TestMissingObjectWraps(t *testing.T) {
	f := newFake()
	m := loadedModel(t, f, Ingest, Options{})
	long := &source.ErrMissing{
		Object: `relation "hmperf.ingest_batch_stats_with_a_name_long_enough_to_wrap_twice_at_eighty_columns" does not exist`,
		Fix:    "hmperf migrate adopt, then hmperf migrate up",
	}
	denied := &source.ErrMissing{Object: "permission denied for table ingest_batch_stats", Fix: "grant SELECT", Denied: true}
	for _, c := range []struct {
		err  *source.ErrMissing
		want []string
	}{
		{long, []string{"Ingest cannot be shown", "Missing: " + long.Object, "To add it, run: " + long.Fix}},
		{denied, []string{"the role may not read", "Refused: " + denied.Object, "To fix it, grant SELECT."}},
	} {
		m.polls[Ingest].err = c.err
		body := m.panelView()
		var joined []string
		for _, line := range strings.Split(body, "\n") {
			if w := lipgloss.Width(line); w > 80 {
				t.Errorf("line %d cells wide: %q", w, line)
			}
			joined = append(joined, strings.TrimSpace(ansi.Strip(line)))
		}
		// A word longer than the screen breaks inside, so compare without
		// the spaces wrapping adds.
		text, squeeze := strings.Join(joined, " "), strings.NewReplacer(" ", "", "\n", "")
		for _, w := range c.want {
			if !strings.Contains(squeeze.Replace(text), squeeze.Replace(w)) {
				t.Errorf("panel lacks %q:\n%s", w, body)
			}
		}
		if strings.Contains(text, "ERROR") || strings.Contains(text, "retrying") {
			t.Errorf("a missing object is shown as a passing error:\n%s", body)
		}
	}
}
