package ingest

import (
	"hmperf/engine"
	"hmperf/queries"
)

// Needs lists the privileges an ingest into target needs, in the order it
// first uses them: its bookkeeping in schema hmperf, then, on the live
// tables, users and every kind's table. The sandbox's twins are hmperf's
// own, made by the role that made the schema.
func Needs(target Target) []queries.Privilege {
	needs := []queries.Privilege{
		{Kind: "TABLE", Object: "hmperf.ingest_batch_stats", Privilege: "INSERT"},
		{Kind: "TABLE", Object: "hmperf.ingest_rejections", Privilege: "INSERT"},
	}
	if target == Sandbox {
		return needs
	}
	// own_writes: each batch records what it wrote, leaving out hmperf's
	// own tables as the sampler does, and prunes what no sampler needs any
	// more.
	needs = append(needs,
		queries.Privilege{Kind: "TABLE", Object: "hmperf.own_writes", Privilege: "INSERT"},
		queries.Privilege{Kind: "TABLE", Object: "hmperf.own_writes", Privilege: "DELETE"},
		queries.Privilege{Kind: "FUNCTION", Object: "hmperf.write_sampling_skips(oid)", Privilege: "EXECUTE"},
		queries.Privilege{Kind: "TABLE", Object: "public.users", Privilege: "INSERT"})
	for _, k := range engine.Kinds() {
		needs = append(needs, queries.Privilege{Kind: "TABLE", Object: "public." + k.Table(), Privilege: "INSERT"})
	}
	return needs
}
