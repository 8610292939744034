package main

import (
	"fmt"
	"io"
	"strings"

	"hmperf/migrations"
	"hmperf/queries/catalog"
)

// adoptionReport is what migrate adopt prints before it changes anything:
// the differences from hmperf's base migrations, and the metric tables
// whose records the database does not keep unique.
type adoptionReport struct {
	migrations.AdoptionCheck
	MissingKeys []catalog.MissingKey `json:"missing_unique_keys"`
}

// printMissingKeys lists, one finding each, the metric tables without a
// unique index on the columns that identify a record, with the index that
// would enforce it (never created by hmperf) and what ingest does meanwhile.
func printMissingKeys(w io.Writer, missing []catalog.MissingKey) {
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
