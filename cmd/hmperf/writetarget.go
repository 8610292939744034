package main

import (
	"context"
	"fmt"

	"hmperf/queries"
	"hmperf/queries/ingest"
	"hmperf/queries/writepolicy"
)

// generatedTarget decides where generated rows go: --target wins, else
// writepolicy.Generated.
func generatedTarget(ctx context.Context, db queries.DBTX, flag string) (ingest.Target, error) {
	if flag != "" {
		t, err := ingest.ParseTarget(flag)
		if err != nil {
			return 0, fmt.Errorf("%w: --target: %v", errUsage, err)
		}
		return t, nil
	}
	return writepolicy.Generated(ctx, db)
}
