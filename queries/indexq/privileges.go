package indexq

import "hmperf/queries"

// Needs lists the privileges `indexes process` needs beyond reading: it
// claims and updates the queue's jobs.
var Needs = []queries.Privilege{
	{Kind: "TABLE", Object: "public.deferred_index_creation", Privilege: "UPDATE"},
}
