package migrations

import (
	"strings"
	"testing"

	"hmperf/tui/source"
	"hmperf/tui/theme"
)

func TestViewSaysWhatTheDatabaseIs(t *testing.T) {
	pending := []source.Migration{{Version: 1, Name: "users"}, {Version: 15, Name: "hmperf_partition_helpers"}}
	tests := []struct {
		name string
		data source.MigrationStatus
		want []string
	}{
		{"another tool's", source.MigrationStatus{Migrations: pending,
			Summary: "managed by another tool (sqlx, 17 migrations, latest 17; 8 of the service's 8 tables present)",
			Next:    "run `hmperf migrate adopt` to check the tables"},
			[]string{"managed by another tool (sqlx", "hmperf migrate adopt"}},
		{"adopted, up to date", source.MigrationStatus{Current: 15,
			Migrations: []source.Migration{{Version: 1, Name: "users", Applied: true, Adopted: true}, {Version: 15, Name: "hmperf_partition_helpers", Applied: true}},
			Summary:    "managed by hmperf (adopted from sqlx 17), version 15", Next: "nothing to do: every migration is applied"},
			[]string{"adopted from sqlx 17", "u applies all pending", "adopted  ", "applied"}},
		{"a rollout in flight", source.MigrationStatus{Current: 35, Migrations: pending,
			Rollouts: []source.Rollout{{Table: "symptoms", Phase: "started", Copied: 5000, Estimate: 20000, Rate: 2500, Backlog: 7,
				Throttle: "1 lock request waiting on the table"}}},
			[]string{"Rollout symptoms", "backfill 5000 of ~20000 rows, 2500 rows/s, ETA 6s, log backlog 7", "paused: 1 lock request"}},
		{"dirty", source.MigrationStatus{Current: 15, Dirty: true, Migrations: pending,
			Summary: "dirty: migration 0015 failed halfway", Next: "run `hmperf migrate force 1`"},
			[]string{"dirty: migration 0015 failed halfway", "FAILED (dirty)", "f records the version"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := New(theme.NewStyles(theme.Default()))
			m.SetSize(120, 12)
			m.SetData(tc.data)
			view := m.View()
			for _, w := range tc.want {
				if !strings.Contains(view, w) {
					t.Errorf("view lacks %q:\n%s", w, view)
				}
			}
		})
	}
}
