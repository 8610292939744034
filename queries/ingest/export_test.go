package ingest

import "hmperf/engine"

// AssumeUniqueKey makes in write kind k's table as if a unique index
// enforced its natural key: a straight COPY, ON CONFLICT on a conflict,
// and no anti-join. On a table without that index it is hmperf's path
// before imports were idempotent there, which the benchmark compares.
func AssumeUniqueKey(in *Ingester, k engine.Kind) {
	m := *in.lay.tables[k].m
	m.Key = m.Natural
	in.lay.tables[k] = newTableTarget(&m)
}
