package cmdout

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"hmperf/migrations"
)

// MigrationStatus writes the schema's state and each migration's, as
// text or JSON.
func MigrationStatus(w io.Writer, st migrations.Status, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	fmt.Fprintf(w, "database: %s\n", st.Summary)
	fmt.Fprintf(w, "next: %s\n", st.Next)
	fmt.Fprintf(w, "schema version: %s; %d applied, %d pending\n", migrations.VersionText(st), len(st.Migrations)-st.Pending, st.Pending)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tNAME\tSTATE")
	for _, mg := range st.Migrations {
		fmt.Fprintf(tw, "%04d\t%s\t%s\n", mg.Version, mg.Name, migrationState(st, mg))
	}
	return tw.Flush()
}

func migrationState(st migrations.Status, mg migrations.Migration) string {
	switch {
	case mg.Applied && st.Adopted() && mg.Version <= migrations.BaseVersion:
		return "adopted (the service's, not run by hmperf)"
	case mg.Applied:
		return "applied"
	case st.Dirty && mg.Version == st.Version:
		return "FAILED (dirty)"
	}
	return "pending"
}

// MigrateDone writes the state a successful change of the schema left.
func MigrateDone(w io.Writer, action string, st migrations.Status) error {
	_, err := fmt.Fprintf(w, "migrate %s: done; schema version %s; database %s\n", action, migrations.VersionText(st), st.Summary)
	return err
}
