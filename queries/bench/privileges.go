package bench

import "hmperf/queries"

// Needs lists the privileges a benchmark needs before its first
// measurement: it records its run in hmperf.benchmark_runs.
var Needs = []queries.Privilege{
	{Kind: "TABLE", Object: "hmperf.benchmark_runs", Privilege: "INSERT"},
}
