package bench

import "context"

func measureIndexStrategies(ctx context.Context, db DB, opt ClaimOptions, run *ClaimRun) error {
	return nil
}
