package monitor

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"hmperf/queries"
)

// Sample statuses.
const (
	// SampleTaken: the sample's deltas went into the monitor.
	SampleTaken = "sampled"
	// SampleBaseline: the first sample, or the first after more than two
	// hours, only recorded the counters.
	SampleBaseline = "baseline"
	// SampleBusy: another process was sampling; nothing was done.
	SampleBusy = "busy"
)

// StatementsNotInstalled is SampleResult.Statements when the
// pg_stat_statements extension is not installed in the database.
const StatementsNotInstalled = "not installed"

// SampleResult is what one sample of the service's writes saw.
type SampleResult struct {
	SampledAt time.Time `json:"sampled_at"`
	// IntervalSeconds is the wall time since the previous sample; nil for a
	// baseline or a busy sample.
	IntervalSeconds *float64 `json:"interval_seconds"`
	Status          string   `json:"status"`
	// Statements is the state of pg_stat_statements: "installed", "not
	// installed" or why it could not be read.
	Statements string `json:"pg_stat_statements"`
	// StatsReset is true when the statistics were reset or the server
	// restarted since the previous sample: writes between that sample and
	// the reset are lost.
	StatsReset bool          `json:"stats_reset"`
	Tables     []TableSample `json:"tables"`
	// InMemory is set when the sample was taken in memory (MemorySampler):
	// the deltas since this process's previous sample, stored nowhere.
	InMemory bool `json:"in_memory"`
}

// sortTables orders samples by table name, as the stored sampler returns
// them.
func sortTables(ts []TableSample) {
	slices.SortFunc(ts, func(a, b TableSample) int { return strings.Compare(a.Table, b.Table) })
}

// TableSample is one table's writes between two samples, partitions summed
// into their top parent.
type TableSample struct {
	Table string `json:"table_name"`
	// Inserted is the growth of n_tup_ins: every inserted row, rolled back
	// or not.
	Inserted int64 `json:"inserted"`
	// Rows are the service's committed rows: Inserted less the rolled-back
	// rows and less HmperfRows.
	Rows int64 `json:"rows"`
	// RolledBack are rows of transactions that rolled back (hmperf's
	// benchmarks among them), where the split was known.
	RolledBack int64 `json:"rolled_back"`
	// RollbackUnknown are rows of partitions where VACUUM or ANALYZE ran in
	// the interval, so the rolled-back part cannot be told: counted in Rows.
	RollbackUnknown int64 `json:"rollback_unknown"`
	// HmperfRows are rows hmperf itself committed (its ingest's are in the
	// monitor already, from its batch stats), taken out of Rows.
	HmperfRows int64 `json:"hmperf_rows"`
	// HmperfRolledBack are rows hmperf itself inserted and rolled back,
	// taken out of RolledBack (or of RollbackUnknown, where the split was
	// unknown).
	HmperfRolledBack int64 `json:"hmperf_rolled_back"`
	// Throughput is Rows per second of wall time between the samples.
	Throughput *float64 `json:"throughput_rows_per_sec"`
	// The INSERT and COPY statements into the table, from
	// pg_stat_statements; nil where it was not read.
	StatementCalls   *int64   `json:"statement_calls"`
	StatementRows    *int64   `json:"statement_rows"`
	StatementSeconds *float64 `json:"statement_seconds"`
	// InsertSpeed is StatementRows per second of their execution time;
	// MsPer1000Rows its inverse. nil without statements.
	InsertSpeed   *float64 `json:"insert_speed_rows_per_sec"`
	MsPer1000Rows *float64 `json:"insert_ms_per_1000_rows"`
}

// Sample takes one sample of the service's writes (hmperf.sample_writes):
// it reads the table statistics and, where installed, pg_stat_statements,
// and adds the deltas since the previous sample to the monitor, so they show
// in real_time_constraint_performance per table and hour. It writes only to
// hmperf's own tables, in one short transaction. A concurrent sampler in
// another process makes it wait; TrySample returns at once instead.
func Sample(ctx context.Context, db queries.DBTX) (SampleResult, error) {
	return sample(ctx, db, true)
}

// TrySample is Sample that returns status SampleBusy, having done nothing,
// when another process is sampling right now.
func TrySample(ctx context.Context, db queries.DBTX) (SampleResult, error) {
	return sample(ctx, db, false)
}

func sample(ctx context.Context, db queries.DBTX, wait bool) (SampleResult, error) {
	var r SampleResult
	var statements *string
	var tables []byte
	err := db.QueryRow(ctx, `SELECT sampled_at, interval_seconds, status, statements, stats_reset, tables
		  FROM hmperf.sample_writes($1)`, wait).
		Scan(&r.SampledAt, &r.IntervalSeconds, &r.Status, &statements, &r.StatsReset, &tables)
	if err != nil {
		return r, fmt.Errorf("sample the service's writes: %w", err)
	}
	if statements != nil {
		r.Statements = *statements
	}
	if err := json.Unmarshal(tables, &r.Tables); err != nil {
		return r, fmt.Errorf("sample the service's writes: decode tables: %w", err)
	}
	for i := range r.Tables {
		r.Tables[i].speeds(r.IntervalSeconds)
	}
	return r, nil
}

// speeds fills in the two speeds, each only from what measured it.
func (t *TableSample) speeds(interval *float64) {
	if interval != nil && *interval > 0 {
		v := float64(t.Rows) / *interval
		t.Throughput = &v
	}
	if t.StatementRows != nil && t.StatementSeconds != nil && *t.StatementSeconds > 0 && *t.StatementRows > 0 {
		speed := float64(*t.StatementRows) / *t.StatementSeconds
		ms := *t.StatementSeconds * 1e6 / float64(*t.StatementRows)
		t.InsertSpeed, t.MsPer1000Rows = &speed, &ms
	}
}
