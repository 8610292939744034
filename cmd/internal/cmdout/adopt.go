package cmdout

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"hmperf/migrations"
	"hmperf/queries/catalog"
)

// AdoptionCheck lists every difference between the live base tables and
// hmperf's base migrations, and the metric tables without a unique key.
func AdoptionCheck(w io.Writer, report AdoptionReport, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(report)
	}
	if err := differences(w, report.AdoptionCheck); err != nil {
		return err
	}
	MissingKeys(w, report.MissingKeys)
	return nil
}

// differences lists every difference from hmperf's base migrations.
func differences(w io.Writer, check migrations.AdoptionCheck) error {
	f := check.Foreign
	fmt.Fprintf(w, "managed by %s", f.Tool)
	if f.Table != "" {
		fmt.Fprintf(w, " (%s: %d migrations, latest %s)", f.Table, f.Migrations, f.Version)
	}
	fmt.Fprintf(w, "; base tables present: %s\n", strings.Join(f.BaseTables, ", "))
	if len(check.Differences) == 0 {
		fmt.Fprintln(w, "no differences from hmperf's base migrations")
		return nil
	}
	fmt.Fprintf(w, "%d difference(s) from hmperf's base migrations (ingest maps onto the live columns; BLOCKING ones stop adoption):\n", len(check.Differences))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TABLE\tCOLUMN\tEXPECTED\tFOUND\t")
	for _, d := range check.Differences {
		mark := ""
		if d.Blocking {
			mark = "BLOCKING"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", d.Table, orDash(d.Column), d.Expected, d.Found, mark)
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// AdoptionReport is what migrate adopt prints before it changes anything:
// the differences from hmperf's base migrations, and the metric tables
// whose records the database does not keep unique.
type AdoptionReport struct {
	migrations.AdoptionCheck
	MissingKeys []catalog.MissingKey `json:"missing_unique_keys"`
}

// MissingKeys lists, one finding each, the metric tables without a
// unique index on the columns that identify a record, with the index that
// would enforce it (never created by hmperf) and what ingest does meanwhile.
func MissingKeys(w io.Writer, missing []catalog.MissingKey) {
	for _, m := range missing {
		served := "no index serves the check: each batch reads the whole table"
		switch {
		case m.Covered == len(m.Key):
			served = "index " + m.ServedBy + " serves the check"
		case m.ServedBy != "":
			served = fmt.Sprintf("index %s serves the check on its first %d key column(s)", m.ServedBy, m.Covered)
		}
		fmt.Fprintf(w, "finding: %s has no unique key on (%s): the database lets the same record be stored twice; hmperf ingest skips stored keys itself (%s); to enforce it (fails while duplicates are stored): %s\n",
			m.Table, strings.Join(m.Key, ", "), served, m.Index)
	}
}
