// Command hmperf is a terminal dashboard and CLI for the PostgreSQL database
// of a health-metrics ingestion service.
package main

func main() {}
