package bench

// claimWordings is the report's wording of each figure a claim run judges,
// by claim and subject.
var claimWordings = map[[2]string]string{
	{"create_seconds", "immediate"}:                         "partition creation time, 100MB partition: immediate 45.2 s",
	{"create_seconds", "lazy"}:                              "partition creation time, 100MB partition: lazy 12.8 s",
	{"create_seconds", "deferred"}:                          "partition creation time, 100MB partition: deferred 2.1 s",
	{"reduction_pct", "lazy"}:                               "lazy indexing 60-80% faster than immediate (-72%)",
	{"reduction_pct", "deferred"}:                           "deferred indexing 90-95% faster than immediate (-95%)",
	{"reduction_pct", "lazy (total)"}:                       "lazy indexing 60-80% faster than immediate (-72%), read as the total time to a loaded, fully indexed partition",
	{"reduction_pct", "deferred (total)"}:                   "deferred indexing 90-95% faster than immediate (-95%), read as the total time to a loaded, fully indexed partition",
	{"bytes_per_key", "report-string-set"}:                  "dedup tracking 96 B -> 24 B: the report's optimized layout, 24 B per entry",
	{"bytes_per_key_about", "report-string-set"}:            "dedup tracking, the optimized layout: 32 B + 9 x 16 B = ~176 B",
	{"bytes_per_key", "tracker"}:                            "dedup tracking 96 B -> 24 B: hmperf's tracker against 24 B per entry",
	{"saving_pct", "report-string-set vs legacy-typed-set"}: "dedup tracking 96 B -> 24 B: 75% less than the legacy layout",
	{"hit_rate_pct", "cache"}:                               "validation cache hit rate 80-95% for typical workloads",
	{"kb_for_10000", "cache"}:                               "validation cache memory: ~176KB for 10,000 cached validations",
	{"faster_pct", "cache"}:                                 "cached validation 50-70% faster",
}

// ClaimRunWording is the report's wording of a claim run's figure, or the
// claim's own name when it has none.
func ClaimRunWording(claim, subject string) string {
	if w, ok := claimWordings[[2]string{claim, subject}]; ok {
		return w
	}
	return claim + " (" + subject + ")"
}
