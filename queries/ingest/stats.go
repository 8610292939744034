package ingest

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/engine"
	"hmperf/queries/catalog"
)

// TableStats is one batch's accounting for one table (or for one unsupported
// type, or for undecodable records): Received = Inserted + Duplicates +
// Rejected + Unsupported. Of Rejected, ValidationRejected were stopped by the
// Go validator and ConstraintFailures refused by PostgreSQL with an integrity
// constraint violation (SQLSTATE class 23); the rest failed to decode, named
// a user the users table does not hold (ReasonUnknownUser), or were refused
// as malformed data (class 22).
type TableStats struct {
	kind                               engine.Kind // the table's kind, when metric is set
	metric                             bool        // false for unsupported types and undecodable records
	Table                              string
	Received, Inserted, Duplicates     int
	Rejected, Unsupported, Unvalidated int
	ValidationRejected                 int
	ConstraintFailures                 int
	ValidateMs, DedupMs, WriteMs       float64
	CacheHits, CacheMisses             uint64
	Reasons                            map[string]int
	rejections                         []rejection
	dropped                            map[string]int // table.column → values not stored
	missingTable                       string         // the table that does not exist, for unsupported records of a kind
	indexes                            []int64
}

// rejection is one rejected record, as stored in ingest_rejections.
type rejection struct {
	index   int64
	reasons []string
	record  []byte
}

// reject counts a rejected record under its reasons and keeps it, with the
// detail (the full messages) when there is one, for ingest_rejections.
func (s *TableStats) reject(index int64, reasons []string, detail string, r engine.Record) {
	s.Rejected++
	for _, reason := range reasons {
		s.Reasons[reason]++
	}
	stored := reasons
	if detail != "" {
		stored = []string{detail}
	}
	s.rejections = append(s.rejections, rejection{index: index, reasons: stored, record: recordJSON(r)})
}

// TypeTotals is the run's accounting for one table or type.
type TypeTotals struct {
	Received    int64 `json:"received"`
	Inserted    int64 `json:"inserted"`
	Duplicates  int64 `json:"duplicates"`
	Rejected    int64 `json:"rejected"`
	Unsupported int64 `json:"unsupported"`
	Unvalidated int64 `json:"unvalidated"`
	// ValidationRejected and ConstraintFailures are parts of Rejected: the
	// records the Go validator stopped, and the rows PostgreSQL refused with
	// an integrity constraint violation (SQLSTATE class 23).
	ValidationRejected int64 `json:"rejected_by_validation"`
	ConstraintFailures int64 `json:"constraint_failures"`
}

func (t *TypeTotals) add(s TableStats) {
	t.Received += int64(s.Received)
	t.Inserted += int64(s.Inserted)
	t.Duplicates += int64(s.Duplicates)
	t.Rejected += int64(s.Rejected)
	t.Unsupported += int64(s.Unsupported)
	t.Unvalidated += int64(s.Unvalidated)
	t.ValidationRejected += int64(s.ValidationRejected)
	t.ConstraintFailures += int64(s.ConstraintFailures)
}

// Totals is a run's accounting: Received = Inserted + Duplicates + Rejected
// + Unsupported, overall and for every entry of ByType.
type Totals struct {
	RunID  string `json:"run_id"`
	Target string `json:"target"` // live or sandbox
	TypeTotals
	Batches         int                    `json:"batches"`
	ByType          map[string]*TypeTotals `json:"by_type"`
	RejectsByReason map[string]int64       `json:"rejects_by_reason"`
	CacheHits       uint64                 `json:"cache_hits"`
	CacheMisses     uint64                 `json:"cache_misses"`
	ForeignKeyCheck FKCheck                `json:"foreign_key_check"`
	// CopyPath says, per table, how its COPY rows were encoded: "binary"
	// (hmperf's encoder), "pgx" (pgx's generic path) or "mixed (pgx:
	// columns)"; empty before the layout is read.
	CopyPath map[string]string `json:"copy_path,omitempty"`
	// DroppedFields counts, per table.column, the values of fields the
	// target table has no column for (the service's tables do not store
	// every field hmperf's records carry); those rows were stored without
	// them.
	DroppedFields map[string]int64 `json:"dropped_fields,omitempty"`
	// MissingTables counts, per table that does not exist, the records of
	// its kind counted as unsupported.
	MissingTables map[string]int64 `json:"missing_tables,omitempty"`
	// CreatedUsers names the users the run added to the live users table
	// (only with Options.CreateUsers): that table is the service's, so
	// whoever must take them out again gets their ids.
	CreatedUsers *CreatedUsers `json:"created_users,omitempty"`
	// UnknownChecks are the target tables' CHECKs the validator does not
	// enforce: what they refuse shows up as constraint failures.
	UnknownChecks []catalog.Check `json:"unknown_checks,omitempty"`
	Duration      time.Duration   `json:"-"`
	// Dedup counts every duplicate (within a batch, across batches, or a
	// key already in the table) under its kind, so that the per-family and
	// the legacy 13-field views count each table once.
	Dedup engine.DedupStats `json:"-"`
}

// CreatedUsers is the users a run added to a live users table.
type CreatedUsers struct {
	Table string   `json:"table"`
	IDs   []string `json:"ids"`
}

// addCreated records users added to table, by their live ids.
func (t *Totals) addCreated(table string, ids []string) {
	if len(ids) == 0 {
		return
	}
	if t.CreatedUsers == nil {
		t.CreatedUsers = &CreatedUsers{Table: table}
	}
	t.CreatedUsers.IDs = append(t.CreatedUsers.IDs, ids...)
}

func newTotals(run engine.UUID, target Target) Totals {
	return Totals{RunID: run.String(), Target: target.String(), ByType: map[string]*TypeTotals{}, RejectsByReason: map[string]int64{}}
}

func (t *Totals) add(stats []TableStats) {
	t.Batches++
	for _, s := range stats {
		t.TypeTotals.add(s)
		bt, ok := t.ByType[s.Table]
		if !ok {
			bt = &TypeTotals{}
			t.ByType[s.Table] = bt
		}
		bt.add(s)
		for r, n := range s.Reasons {
			t.RejectsByReason[r] += int64(n)
		}
		for f, n := range s.dropped {
			if t.DroppedFields == nil {
				t.DroppedFields = map[string]int64{}
			}
			t.DroppedFields[f] += int64(n)
		}
		if s.missingTable != "" {
			if t.MissingTables == nil {
				t.MissingTables = map[string]int64{}
			}
			t.MissingTables[s.missingTable] += int64(s.Unsupported)
		}
		t.CacheHits += s.CacheHits
		t.CacheMisses += s.CacheMisses
		if s.metric {
			t.Dedup.ByKind[s.kind] += uint64(s.Duplicates)
			t.Dedup.Elapsed += time.Duration(s.DedupMs * float64(time.Millisecond))
		}
	}
}

func (t Totals) clone() Totals {
	c := t
	c.ByType = make(map[string]*TypeTotals, len(t.ByType))
	for k, v := range t.ByType {
		vv := *v
		c.ByType[k] = &vv
	}
	c.RejectsByReason = maps.Clone(t.RejectsByReason)
	c.DroppedFields = maps.Clone(t.DroppedFields)
	c.MissingTables = maps.Clone(t.MissingTables)
	c.CopyPath = maps.Clone(t.CopyPath)
	c.UnknownChecks = slices.Clone(t.UnknownChecks)
	if t.CreatedUsers != nil {
		cu := *t.CreatedUsers
		cu.IDs = slices.Clone(cu.IDs)
		c.CreatedUsers = &cu
	}
	return c
}

// RowsPerSecond is received records per second of wall time.
func (t Totals) RowsPerSecond() float64 {
	if t.Duration <= 0 {
		return 0
	}
	return float64(t.Received) / t.Duration.Seconds()
}

// storeBatch writes the batch's stats rows and its rejections.
func storeBatch(ctx context.Context, tx pgx.Tx, run engine.UUID, batchNo int, c engine.Context, stats []TableStats) error {
	rows := make([][]any, 0, len(stats))
	var rejects [][]any
	for _, s := range stats {
		reasons, err := json.Marshal(s.Reasons)
		if err != nil {
			return err
		}
		rows = append(rows, []any{[16]byte(run), batchNo, s.Table, c.String(), s.Received, s.Inserted, s.Duplicates,
			s.Rejected, s.Unsupported, s.Unvalidated, s.ValidateMs, s.DedupMs, s.WriteMs,
			int64(s.CacheHits), int64(s.CacheMisses), string(reasons), s.ConstraintFailures, s.ValidationRejected})
		for _, rj := range s.rejections {
			rejects = append(rejects, rejectionRow(run, batchNo, s.Table, rj))
		}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"hmperf", "ingest_batch_stats"}, statsColumns, pgx.CopyFromRows(rows)); err != nil {
		return err
	}
	if len(rejects) == 0 {
		return nil
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"hmperf", "ingest_rejections"}, rejectionColumns, pgx.CopyFromRows(rejects))
	return err
}

var (
	statsColumns = []string{"run_id", "batch_no", "table_name", "context", "received", "inserted", "duplicates",
		"rejected", "unsupported", "unvalidated", "validate_ms", "dedup_ms", "write_ms",
		"cache_hits", "cache_misses", "rejects_by_reason", "constraint_failures", "validation_rejected"}
	rejectionColumns = []string{"run_id", "batch_no", "table_name", "record_index", "reasons", "record"}
)

func rejectionRow(run engine.UUID, batchNo int, table string, rj rejection) []any {
	reasons, _ := json.Marshal(rj.reasons)
	var record any
	if rj.record != nil {
		record = string(rj.record)
	}
	return []any{[16]byte(run), batchNo, table, rj.index, string(reasons), record}
}

// SortedReasons returns the reasons by descending count, then name.
func SortedReasons(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys
}
