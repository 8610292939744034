package rollout

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"hmperf/queries"
)

// Gate is the latest benchmark verdict on whether the optimized layout of
// a table beats its original on this server: the claim that it inserts
// faster (improvement_pct), from the newest finished run on this server
// version that measured the table.
type Gate struct {
	Holds      bool       `json:"holds"`
	Reason     string     `json:"reason"`
	RunID      int64      `json:"run_id,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	Verdict    string     `json:"verdict,omitempty"`
	Measured   *float64   `json:"measured_pct,omitempty"`
	CILow      *float64   `json:"ci_low,omitempty"`
	CIHigh     *float64   `json:"ci_high,omitempty"`
	Claimed    *float64   `json:"claimed_pct,omitempty"`
}

// ReadGate reads the gate of table.
func ReadGate(ctx context.Context, db queries.DBTX, table string) (Gate, error) {
	var g Gate
	var finished time.Time
	var measured, claimed float64
	err := db.QueryRow(ctx, `
		SELECT r.id, r.finished_at, v.verdict, v.measured, v.claimed, v.ci_low, v.ci_high
		  FROM hmperf.benchmark_verdicts v
		  JOIN hmperf.benchmark_runs r ON r.id = v.run_id
		 WHERE v.table_name = $1 AND v.claim = 'improvement_pct' AND r.status = 'done'
		   AND r.server_version = version()
		 ORDER BY r.id DESC LIMIT 1`, table).Scan(&g.RunID, &finished, &g.Verdict, &measured, &claimed, &g.CILow, &g.CIHigh)
	if errors.Is(err, pgx.ErrNoRows) {
		g.Reason = fmt.Sprintf("no finished benchmark of %s on this server (run `hmperf bench --table ...` first)", table)
		return g, nil
	}
	if err != nil {
		return g, fmt.Errorf("rollout: read the latest verdict for %s: %w", table, err)
	}
	g.FinishedAt, g.Measured, g.Claimed = &finished, &measured, &claimed
	g.Holds = g.Verdict == "holds"
	g.Reason = fmt.Sprintf("benchmark run %d: the optimized layout's improvement over the original %s (measured %+.1f%%, 95%% CI %s, claimed %+.1f%%)",
		g.RunID, g.Verdict, measured, interval(g.CILow, g.CIHigh), claimed)
	return g, nil
}

func interval(lo, hi *float64) string {
	if lo == nil || hi == nil {
		return "unknown"
	}
	return fmt.Sprintf("%+.1f%%..%+.1f%%", *lo, *hi)
}
