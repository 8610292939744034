package bench

// The report's claims a Verdict judges, as Verdict.Claim names them.
const (
	ClaimImprovement = "improvement_pct" // optimized over original, in %
	ClaimThroughput  = "ops_per_sec"     // the optimized table's rows/s
	ClaimOverhead    = "overhead_pct"    // the optimized table's constraint overhead, in %
)

// Claims lists every claim, in the order verdicts are shown.
var Claims = []string{ClaimImprovement, ClaimThroughput, ClaimOverhead}

// claimWords holds each claim's wording: in full for tables and reports,
// and in one word for the dashboard's narrow layouts (its table column
// already says the claim is the optimized table's).
var claimWords = map[string][2]string{
	ClaimImprovement: {"improvement over original", "improvement"},
	ClaimThroughput:  {"optimized throughput", "throughput"},
	ClaimOverhead:    {"optimized constraint overhead", "overhead"},
}

// ClaimWording is claim in words, "" for a claim hmperf does not know.
func ClaimWording(claim string) string { return claimWords[claim][0] }

// ClaimShort is claim in one word, "" for a claim hmperf does not know.
func ClaimShort(claim string) string { return claimWords[claim][1] }
