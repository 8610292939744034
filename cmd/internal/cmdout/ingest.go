package cmdout

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"hmperf/engine"
	"hmperf/queries/catalog"
	"hmperf/queries/ingest"
)

// UnknownChecks names, before anything is written, each CHECK of the
// target's tables that the validator does not enforce: one line each, with
// its definition.
func UnknownChecks(w io.Writer, checks []catalog.Check) {
	for _, c := range checks {
		fmt.Fprintf(w, "unknown CHECK on %s: %s %s (the validator does not enforce it: rows it refuses count as constraint failures)\n",
			c.Table, c.Name, c.Definition)
	}
}

// IngestReport is the JSON document `hmperf ingest --json` prints.
type IngestReport struct {
	ingest.Totals
	DurationMs         float64            `json:"duration_ms"`
	RowsPerSecond      float64            `json:"rows_per_second"`
	DuplicatesByFamily map[string]uint64  `json:"duplicates_by_family"`
	LegacyDedupStats   engine.LegacyStats `json:"legacy_dedup_stats"`
}

// Totals writes an ingest run's accounting: every record received,
// inserted, a duplicate, rejected (and why) or unsupported, as text or JSON.
func Totals(w io.Writer, t ingest.Totals, asJSON bool) {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(IngestReport{Totals: t, DurationMs: ms(t.Duration), RowsPerSecond: t.RowsPerSecond(),
			DuplicatesByFamily: t.Dedup.Families().ByName(), LegacyDedupStats: t.Dedup.Legacy()})
		return
	}
	fmt.Fprintf(w, "received %d: inserted %d, duplicates %d, rejected %d, unsupported %d (unvalidated %d) in %.0f ms, %.0f rows/s\n",
		t.Received, t.Inserted, t.Duplicates, t.Rejected, t.Unsupported, t.Unvalidated, ms(t.Duration), t.RowsPerSecond())
	fmt.Fprintf(w, "  of the rejected: %d by validation, %d refused by database constraints (constraint failures)\n",
		t.ValidationRejected, t.ConstraintFailures)
	for _, reason := range ingest.SortedReasons(t.RejectsByReason) {
		fmt.Fprintf(w, "  rejected %6d  %s\n", t.RejectsByReason[reason], reason)
	}
	if t.Target == ingest.Sandbox.String() {
		fmt.Fprintln(w, "written to the sandbox (schema hmperf_sandbox); --target live writes the live tables")
	}
	createdUsers(w, t.CreatedUsers)
	for _, table := range ingest.SortedReasons(t.MissingTables) {
		fmt.Fprintf(w, "  unsupported %6d  records for %s (no such table)\n", t.MissingTables[table], table)
	}
	for _, field := range ingest.SortedReasons(t.DroppedFields) {
		fmt.Fprintf(w, "  not stored %6d values of %s (the table has no such column)\n", t.DroppedFields[field], field)
	}
	if fk := t.ForeignKeyCheck; len(fk.Batch) > 0 || fk.Reason != "" {
		fmt.Fprintf(w, "foreign key to users checked once per user and batch on %d table(s)", len(fk.Batch))
		if fk.Reason != "" {
			fmt.Fprintf(w, "; per row elsewhere: %s", fk.Reason)
		}
		fmt.Fprintln(w)
	}
}

// shownCreatedUsers is how many created ids the text report lists; --json
// lists them all.
const shownCreatedUsers = 20

// createdUsers names the users a run added to the live users table.
func createdUsers(w io.Writer, cu *ingest.CreatedUsers) {
	if cu == nil || len(cu.IDs) == 0 {
		return
	}
	ids := cu.IDs[:min(len(cu.IDs), shownCreatedUsers)]
	more := ""
	if len(cu.IDs) > len(ids) {
		more = fmt.Sprintf(", and %d more (--json lists them all)", len(cu.IDs)-len(ids))
	}
	fmt.Fprintf(w, "created %d users in %s: %s%s\n", len(cu.IDs), cu.Table, strings.Join(ids, ", "), more)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
