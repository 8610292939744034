package dashsource

import (
	"context"

	"hmperf/queries"
	"hmperf/queries/rollout"
	"hmperf/tui/source"
)

// rolloutVersion is the migration that keeps the rollouts' state.
const rolloutVersion = 35

// rolloutsInFlight reads the rollouts in flight for the Migrations panel.
func rolloutsInFlight(ctx context.Context, db queries.DBTX) ([]source.Rollout, error) {
	states, err := rollout.InFlight(ctx, db)
	if err != nil {
		return nil, err
	}
	out := make([]source.Rollout, len(states))
	for i, s := range states {
		out[i] = source.Rollout{Table: s.Table, Phase: s.Phase, Copied: s.Copied, Estimate: s.Estimate, Done: s.BackfillDone,
			Backlog: s.Backlog, Throttle: s.Throttle}
		if s.Rate != nil {
			out[i].Rate = *s.Rate
		}
		if s.LockHeldMS != nil {
			out[i].LockHeldMS = *s.LockHeldMS
		}
	}
	return out, nil
}
